-- Data Security Program: the distinct subjects each counterparty reached per category
-- in the 12 months ending on every day (the window ending on day D is D-364 .. D: an
-- access on day 1 counts on day 365 and no longer on day 366).
--
-- Exact at every day without a row per day: a subject reached on day A is in every
-- window ending A .. A+364, and from its next access N on the later one carries it, so
-- it adds +1 on A and -1 on min(N, A+365) (nothing when N is A: the same subject twice
-- on one day). The running sum of these steps is the count of the window ending on each
-- day; it changes only on step days, and it rises only on access days, so the first day
-- over a threshold is one of these rows. A store read whole (subject 0) steps by its
-- volume the same way (null volume: unknown, counted apart). One sort of the rows (the
-- window function) does it all; bench/dsp_windows.py measures it.
CREATE OR REPLACE TEMP TABLE dsp_spans AS
SELECT counterparty, category, start_day, end_day,
    CAST(sum(named) AS BIGINT) AS named, CAST(sum(whole) AS BIGINT) AS whole,
    CAST(sum(unknown) AS BIGINT) AS unknown
FROM (
    SELECT counterparty, category, day AS start_day,
        least(lead(day) OVER (
                  PARTITION BY counterparty, category, subject,
                      CASE WHEN subject = 0 THEN store_id END
                  ORDER BY day),
              day + 365) AS end_day,
        CASE WHEN subject <> 0 THEN 1 ELSE 0 END AS named,
        CASE WHEN subject = 0 THEN coalesce(store_subjects, 0) ELSE 0 END AS whole,
        CASE WHEN subject = 0 AND store_subjects IS NULL THEN 1 ELSE 0 END AS unknown
    FROM dsp_reach
) spans
WHERE end_day > start_day
GROUP BY counterparty, category, start_day, end_day;

CREATE OR REPLACE TEMP TABLE dsp_windows AS
WITH steps AS (
    SELECT counterparty, category, start_day AS day, named, whole, unknown FROM dsp_spans
    UNION ALL
    SELECT counterparty, category, end_day, -named, -whole, -unknown FROM dsp_spans
),
per_day AS (
    SELECT counterparty, category, day, sum(named) AS named, sum(whole) AS whole,
        sum(unknown) AS unknown
    FROM steps GROUP BY counterparty, category, day
)
SELECT counterparty, category, day AS window_to,
    CAST(sum(named) OVER w AS BIGINT) AS named_subjects,
    CAST(sum(whole) OVER w AS BIGINT) AS whole_store_subjects,
    CAST(sum(unknown) OVER w AS BIGINT) AS unknown_volume_stores
FROM per_day
WINDOW w AS (PARTITION BY counterparty, category ORDER BY day
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);
