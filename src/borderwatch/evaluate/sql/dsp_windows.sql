-- Data Security Program: the distinct subjects each counterparty reached per category
-- in the 12 months ending on every day (the window ending on day D is D-364 .. D: an
-- access on day 1 counts on day 365 and no longer on day 366).
--
-- Exact at every day without a row per day: a subject reached on day A is in every
-- window ending A .. A+364, and from its next access N on the later one carries it, so
-- it adds +1 on A and -1 on min(N, A+365). The running sum of these steps is the count
-- of the window ending on each day; it changes only on step days, and it rises only on
-- access days, so the first day over a threshold is one of these rows. A store read
-- whole (subject 0) steps by its volume the same way (null volume: unknown, counted
-- apart).
CREATE OR REPLACE TEMP TABLE dsp_windows AS
WITH subject_days AS (
    SELECT DISTINCT counterparty, category, subject, day FROM dsp_reach WHERE subject <> 0
),
subject_spans AS (
    SELECT counterparty, category, day AS start_day,
        least(lead(day) OVER (PARTITION BY counterparty, category, subject ORDER BY day),
              day + 365) AS end_day
    FROM subject_days
),
whole_days AS (
    SELECT DISTINCT counterparty, category, store_id, store_subjects, day
    FROM dsp_reach WHERE subject = 0
),
whole_spans AS (
    SELECT counterparty, category, store_subjects, day AS start_day,
        least(lead(day) OVER (PARTITION BY counterparty, category, store_id ORDER BY day),
              day + 365) AS end_day
    FROM whole_days
),
steps AS (
    SELECT counterparty, category, start_day AS day, 1 AS named, 0 AS whole, 0 AS unknown
    FROM subject_spans
    UNION ALL
    SELECT counterparty, category, end_day, -1, 0, 0 FROM subject_spans
    UNION ALL
    SELECT counterparty, category, start_day, 0, coalesce(store_subjects, 0),
        CASE WHEN store_subjects IS NULL THEN 1 ELSE 0 END
    FROM whole_spans
    UNION ALL
    SELECT counterparty, category, end_day, 0, -coalesce(store_subjects, 0),
        CASE WHEN store_subjects IS NULL THEN -1 ELSE 0 END
    FROM whole_spans
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
