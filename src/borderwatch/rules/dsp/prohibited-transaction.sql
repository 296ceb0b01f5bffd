-- A prohibited transaction (28 CFR 202.301, 202.303): bulk human 'omic data reached by a
-- counterparty in any covered transaction, or bulk data of any category reached under a
-- data brokerage agreement with a country of concern or covered person. Also when a
-- store read whole has no volume to count it by.
SELECT resource, principal, person, country, data_classes, count, first_seen, last_seen,
    CASE WHEN verdict = 'unknown' THEN 'high' ELSE 'critical' END AS severity,
    evidence  -- the counts, window, transaction class and samples (rules/shared/dsp.sql)
FROM dsp_judged
WHERE category <> 'government_related'
  AND transaction_class = 'prohibited'
