-- Copies (replicas, backups, snapshots: copy_of) of protected data in a place the policy
-- does not approve for one of their classes. The query is shared with the other
-- residency verdicts: view residency_findings in rules/shared/residency.sql.
SELECT resource, principal, person, country, data_classes, count, first_seen, last_seen,
    evidence
FROM residency_findings
WHERE verdict = 'outside' AND is_copy
