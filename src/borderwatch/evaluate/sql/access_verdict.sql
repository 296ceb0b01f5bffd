-- One verdict per group of accesses (all its signals are equal): the country that
-- decides and how sure we are (precedence and confidence: docs/jurisdiction.md).
CREATE OR REPLACE TEMP TABLE access_verdict AS
SELECT group_id,
    coalesce(egress_country, person_country, ip_country, cloud_host_country,
             service_country) AS effective_country,
    CASE
        WHEN egress_country IS NOT NULL THEN 'corporate_egress'
        WHEN person_country IS NOT NULL THEN
            CASE WHEN travel_country IS NOT NULL THEN 'approved_travel'
                 ELSE 'work_country' END
        WHEN ip_country IS NOT NULL THEN 'caller_ip'
        WHEN cloud_host_country IS NOT NULL THEN 'cloud_host'
        WHEN service_country IS NOT NULL THEN 'provider_region'
    END AS decided_by,
    CASE
        WHEN egress_country IS NOT NULL THEN 'high'
        -- IP data sources that disagree on the country (ip_disagree) lower it a step.
        WHEN person_country IS NOT NULL AND ip_country = person_country THEN
            CASE WHEN ip_disagree IS NULL THEN 'high' ELSE 'medium' END
        WHEN person_country IS NOT NULL AND ip_country IS NOT NULL THEN 'low'
        WHEN person_country IS NOT NULL THEN 'medium'
        WHEN ip_country IS NOT NULL AND ip_country_kind = 'located'
             AND ip_disagree IS NULL THEN 'medium'
        WHEN ip_country IS NOT NULL OR cloud_host_country IS NOT NULL
             OR service_country IS NOT NULL THEN 'low'
        ELSE 'none'
    END AS confidence
FROM protected_access;
