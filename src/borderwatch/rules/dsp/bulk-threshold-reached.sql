-- A counterparty (covered person, covered entity, country of concern) reached more
-- distinct US persons or devices of one category than its bulk threshold in some 12
-- months, in a transaction that is not prohibited outright (those are
-- dsp.prohibited-transaction); or a store it read whole has no volume to count.
SELECT resource, principal, person, country, data_classes, count, first_seen, last_seen,
    CASE WHEN verdict = 'unknown' THEN 'high'
         WHEN transaction_class = 'restricted' AND cisa_in_place THEN 'medium'
         ELSE 'critical' END AS severity,
    evidence  -- the counts, window, transaction class and samples (rules/shared/dsp.sql)
FROM dsp_judged
WHERE category <> 'government_related'
  AND transaction_class <> 'prohibited'
