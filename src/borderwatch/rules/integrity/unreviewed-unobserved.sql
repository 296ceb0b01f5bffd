-- The policy asks for oversight (trusted reviewers or protected namespaces) but the scan
-- read no evidence of what runs: no audit log or manifest (--deployments) and no model
-- store (--model-store). Nothing could be checked, which is not a pass.
SELECT NULL AS resource, NULL AS principal, NULL AS person, NULL AS country,
    [] AS data_classes, 0 AS count, NULL::TIMESTAMPTZ AS first_seen,
    NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(
        reviews_read := (SELECT count(*) FROM oversight_reviews),
        artifacts_read := (SELECT count(*) FROM deployed_artifacts)
    ) AS evidence
FROM oversight_scope s
WHERE s.declared AND length(s.evidence_kinds) = 0
