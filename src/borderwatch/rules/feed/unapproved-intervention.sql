-- Views placed by hand for a reason the policy's approved-intervention list does not
-- hold, or on a day after its approval expired (feed_audit.intervention.approved).
-- Views flagged manual without any reason are never approved. Only judged when the
-- policy declares feed_audit.intervention (feed_intervention_cap then has its row).
WITH judged AS (
    SELECT i.day, i.reason, i.item, i.views, a.reason AS approved_reason, a.expires
    FROM feed_interventions i
    LEFT JOIN feed_approved_interventions a ON a.reason = i.reason
    WHERE EXISTS (SELECT 1 FROM feed_intervention_cap)
)
SELECT reason AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    CAST(sum(views) AS BIGINT) AS count,
    CAST(min(day) AS VARCHAR) AS first_seen, CAST(max(day) AS VARCHAR) AS last_seen,
    CASE WHEN reason IS NULL THEN 'no-reason' END AS subject,
    struct_pack(
        reason := reason,
        status := CASE WHEN reason IS NULL THEN 'no-reason'
                       WHEN any_value(approved_reason) IS NULL THEN 'not-approved'
                       ELSE 'approval-expired' END,
        expired := CAST(any_value(expires) AS VARCHAR),
        views := CAST(sum(views) AS BIGINT),
        days := count(DISTINCT day),
        items := count(DISTINCT item),
        -- The first ten items, sorted (items has how many there are).
        sample_items := distinct_sorted(item)[1:10]
    ) AS evidence
FROM judged
WHERE approved_reason IS NULL OR day > expires
GROUP BY reason
