-- Stores and copies holding protected data whose location cannot be established. The
-- query is shared with the other residency verdicts: view residency_findings in
-- rules/shared/residency.sql.
SELECT resource, principal, person, country, data_classes, count, first_seen, last_seen,
    evidence
FROM residency_findings
WHERE verdict = 'unknown'
