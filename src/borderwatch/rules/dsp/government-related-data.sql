-- Government-related data (28 CFR 202.222) reached by a counterparty: covered at any
-- volume, so one subject is enough; or a store read whole has no volume to count.
SELECT resource, principal, person, country, data_classes, count, first_seen, last_seen,
    evidence  -- the counts, window, transaction class and samples (rules/shared/dsp.sql)
FROM dsp_judged
WHERE category = 'government_related'
