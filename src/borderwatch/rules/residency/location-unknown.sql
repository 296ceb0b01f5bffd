-- Stores and copies holding protected data whose location cannot be established. The
-- query is shared with the other residency verdicts: view residency_findings in
-- rules/shared/residency.sql.
SELECT * EXCLUDE (verdict, is_copy)
FROM residency_findings
WHERE verdict = 'unknown'
