-- Review statements that do not count: signed only by keys the policy does not trust,
-- a signature by a trusted key that does not verify (the statement or the signature was
-- changed), or no signature. One finding per reviewed subject and signature result,
-- whether or not the artifact runs: an approval nobody can rely on is itself a finding.
SELECT u.name || '@sha256:' || u.digest AS resource, u.reviewer AS principal,
    NULL AS person, NULL AS country, [] AS data_classes, count(*) AS count,
    NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    u.signature || ' ' || array_to_string(array_sort(array_distinct(flatten(list(u.keyids)))),
        ',') AS subject,
    struct_pack(
        signature := u.signature,
        keyids := array_sort(array_distinct(flatten(list(u.keyids)))),
        decisions := distinct_sorted(u.decision),
        claimed_reviewer := u.reviewer,
        sources := distinct_sorted(u.source)[1:10],
        runs := EXISTS (SELECT 1 FROM deployed_artifacts d
                        WHERE d.digest = u.digest AND d.in_scope)
    ) AS evidence
FROM oversight_reviews u
WHERE u.signature <> 'verified'
GROUP BY u.name, u.digest, u.reviewer, u.signature
