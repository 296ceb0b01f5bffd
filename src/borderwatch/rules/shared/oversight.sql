-- What the integrity rules share (rules/integrity/*.sql). They read `oversight_reviews`
-- (one row per subject of a signed review statement, with what checking its signatures
-- found),
-- `deployed_artifacts` (one row per sighting of an artifact that runs or is ready to run)
-- and the one-row `oversight_scope` (evaluate/oversight.py).

-- Reviews that count: signed by a key the policy trusts, and the signature verifies.
-- `expired`: the approval's expiry is before the day approvals are judged on (--as-of).
-- `scope_counts`: its scope is one the policy's oversight.approval_scopes name (always
-- when it names none); an approval for another scope does not count, a rejection does.
CREATE OR REPLACE TEMP VIEW trusted_reviews AS
SELECT r.name, r.digest, r.decision, r.scope, r.reviewer, r.signed_by, r.reviewed_on,
    r.expires, r.source, r.scope_counts, r.expires < s.as_of AS expired
FROM oversight_reviews r CROSS JOIN oversight_scope s
WHERE r.signature = 'verified';

-- Every artifact in scope pinned by a sha256 digest, its sightings grouped, and what the
-- trusted reviews say of its digest and of its name.
CREATE OR REPLACE TEMP VIEW running_digests AS
WITH running AS (
    SELECT kind, name, digest, count(*) AS sightings,
        min(seen_at) AS first_seen, max(seen_at) AS last_seen,
        distinct_sorted(namespace) AS namespaces,
        distinct_sorted(workload)[1:10] AS workloads,
        distinct_sorted(origin) AS origins,
        distinct_sorted(source)[1:10] AS sources
    FROM deployed_artifacts
    WHERE in_scope AND digest IS NOT NULL
    GROUP BY kind, name, digest
)
SELECT r.*,
    EXISTS (SELECT 1 FROM trusted_reviews t WHERE t.digest = r.digest
            AND t.decision = 'approved' AND NOT t.expired AND t.scope_counts) AS approved,
    EXISTS (SELECT 1 FROM trusted_reviews t WHERE t.digest = r.digest
            AND t.decision = 'rejected') AS rejected,
    EXISTS (SELECT 1 FROM trusted_reviews t WHERE t.digest = r.digest
            AND t.decision = 'approved' AND t.expired AND t.scope_counts) AS approval_expired,
    EXISTS (SELECT 1 FROM trusted_reviews t WHERE t.name = r.name AND t.digest <> r.digest
            AND t.decision = 'approved' AND t.scope_counts) AS name_approved_elsewhere,
    EXISTS (SELECT 1 FROM trusted_reviews t WHERE t.digest = r.digest
            AND t.decision = 'approved' AND NOT t.expired
            AND NOT t.scope_counts) AS approved_for_other_scope
FROM running r;
