-- Days on which the share of views placed by hand is above the policy's cap
-- (feed_audit.intervention.cap), compared exactly in integers: manual views x the cap's
-- denominator > views x its numerator. A day exactly at the cap is not reported.
SELECT 'feed day ' || CAST(d.day AS VARCHAR) AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    d.manual_views AS count,
    CAST(d.day AS VARCHAR) AS first_seen, CAST(d.day AS VARCHAR) AS last_seen,
    struct_pack(
        day := CAST(d.day AS VARCHAR), views := d.views, manual_views := d.manual_views,
        share := CAST(d.manual_views AS DOUBLE) / d.views, cap := c.cap
    ) AS evidence
FROM feed_days d
CROSS JOIN feed_intervention_cap c
WHERE d.manual_views * c.cap_denominator > d.views * c.cap_numerator
