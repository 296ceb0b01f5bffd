-- Data Security Program: one verdict per counterparty and category. Bulk is *more than*
-- the threshold (28 CFR 202.205) in any window; combined data takes the lowest
-- threshold of the categories reached (evaluate/dsp_tables.py). The distinct count is the subjects the
-- logs name plus the volume of every store read whole (an upper bound when both occur:
-- a subject read both ways counts twice). 'unknown' when a store read whole has no
-- volume in the inventory and the named subjects alone stay at or under the threshold.
CREATE OR REPLACE TEMP TABLE dsp_verdicts AS
WITH limits AS (
    SELECT r.counterparty, r.category,
        min(CASE WHEN r.category = 'combined' THEN ct.more_than ELSE t.more_than END)
            AS more_than,
        count(DISTINCT sv.category) AS categories
    FROM (SELECT DISTINCT counterparty, category, store_id FROM dsp_reach) r
    LEFT JOIN dsp_thresholds t ON t.category = r.category
    LEFT JOIN dsp_store_volumes sv
      ON r.category = 'combined' AND sv.store_id = r.store_id
     AND sv.category NOT IN ('combined', 'government_related')
    LEFT JOIN dsp_thresholds ct ON ct.category = sv.category
    GROUP BY r.counterparty, r.category
),
judged_all AS (
    SELECT w.counterparty, w.category, l.more_than, l.categories,
        min(w.window_to) FILTER (
            WHERE w.named_subjects + w.whole_store_subjects > l.more_than) AS crossed_on,
        max(w.named_subjects + w.whole_store_subjects) AS peak,
        bool_or(w.unknown_volume_stores > 0) AS volume_unknown
    FROM dsp_windows w JOIN limits l USING (counterparty, category)
    GROUP BY w.counterparty, w.category, l.more_than, l.categories
),
-- Combined data is judged where it says something new: two or more categories were
-- reached and none of them is over its own threshold.
judged AS (
    SELECT * FROM judged_all j
    WHERE j.category <> 'combined'
       OR (j.categories > 1 AND NOT EXISTS (
           SELECT 1 FROM judged_all o
           WHERE o.counterparty = j.counterparty AND o.category <> 'combined'
             AND o.crossed_on IS NOT NULL))
),
at_crossing AS (
    SELECT w.counterparty, w.category,
        w.named_subjects + w.whole_store_subjects AS crossing_count,
        w.named_subjects, w.whole_store_subjects
    FROM dsp_windows w JOIN judged j
      ON j.counterparty = w.counterparty AND j.category = w.category
     AND j.crossed_on = w.window_to
),
-- What the reviewer checks: the subjects and stores behind the first window over the
-- threshold (or the whole history when none is).
sample AS (
    SELECT r.counterparty, r.category,
        list_sort(list(DISTINCT r.event_id))[1:10] AS sample_event_ids,
        list_sort(list(DISTINCT CAST(r.subject AS VARCHAR))
            FILTER (WHERE r.subject <> 0))[1:10] AS sample_subjects,
        list_sort(list(DISTINCT r.store_id) FILTER (WHERE r.subject = 0)) AS whole_stores,
        list_sort(list(DISTINCT r.store_id) FILTER (
            WHERE r.subject = 0 AND r.store_subjects IS NULL)) AS volume_unknown_stores,
        list_sort(list(DISTINCT r.store_id)) AS stores,
        any_value(r.person) AS person,
        list_sort(list_distinct(flatten(list(r.concern_countries)))) AS countries,
        any_value(r.covered_basis) AS covered_basis,
        list_sort(list_distinct(flatten(list(r.data_classes)))) AS data_classes,
        min(r.day) AS first_day, max(r.day) AS last_day
    FROM dsp_reach r JOIN judged j USING (counterparty, category)
    WHERE j.crossed_on IS NULL OR r.day BETWEEN j.crossed_on - 364 AND j.crossed_on
    GROUP BY r.counterparty, r.category
)
SELECT j.counterparty, j.category, j.more_than AS threshold,
    coalesce(t.unit, 'US persons or devices') AS unit,
    coalesce(t.section, '28 CFR 202.205 (combined data: the lowest threshold)') AS section,
    t.override_reason,
    CASE WHEN j.crossed_on IS NOT NULL THEN 'reached'
         WHEN j.volume_unknown THEN 'unknown' ELSE 'below' END AS verdict,
    j.crossed_on - 364 AS window_from, j.crossed_on AS window_to,
    c.crossing_count, c.named_subjects, c.whole_store_subjects, j.peak,
    a.kind AS agreement, a.cisa_in_place, a.cisa_evidence, a.reference AS agreement_reference,
    CASE WHEN j.category IN ('human_omic', 'human_genomic') THEN 'prohibited'
         WHEN a.kind = 'data_brokerage' THEN 'prohibited'
         WHEN a.kind IN ('vendor', 'employment', 'investment') THEN 'restricted'
         ELSE 'undetermined' END AS transaction_class,
    CASE WHEN j.category IN ('human_omic', 'human_genomic')
             THEN '28 CFR 202.303 (bulk human ''omic data)'
         WHEN a.kind = 'data_brokerage' THEN '28 CFR 202.301 (data brokerage)'
         WHEN a.kind IN ('vendor', 'employment', 'investment')
             THEN '28 CFR 202.401 (restricted: ' || a.kind || ' agreement)'
         ELSE '28 CFR 202.210 (the agreement is not recorded in dsp.agreements)'
    END AS transaction_section,
    s.sample_event_ids, s.sample_subjects, s.whole_stores, s.volume_unknown_stores,
    s.stores, s.person, s.countries, s.covered_basis, s.data_classes,
    s.first_day, s.last_day
FROM judged j
JOIN sample s USING (counterparty, category)
LEFT JOIN at_crossing c USING (counterparty, category)
LEFT JOIN dsp_thresholds t ON t.category = j.category
LEFT JOIN dsp_agreements a ON a.counterparty = j.counterparty;
