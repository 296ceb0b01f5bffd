-- One row per group of accesses to protected data, with every signal of where the
-- caller was: the caller's address (callers), the identity valid on that day, approved
-- travel, and the region of the service that made the call.
CREATE OR REPLACE TEMP TABLE protected_access AS
WITH classes AS (
    SELECT store_id, list(data_class ORDER BY data_class) AS data_classes
    FROM protected_store_classes GROUP BY store_id
),
-- Identities are matched once per distinct (principal, aliases, day), not per event:
-- millions of accesses come from a few thousand principals.
who_when AS (
    SELECT principal, aliases_key, day, any_value(principal_aliases) AS principal_aliases
    FROM access_groups GROUP BY principal, aliases_key, day
),
-- The identity row valid on that day: by principal first, then by alias.
identity_match AS (
    SELECT principal, aliases_key, day, person, work_country, employer,
           resident_country, covered_countries, covered_basis, matched_on FROM (
        -- The identity's columns by name: i.* would repeat `principal` (Spark refuses a
        -- name that two columns share).
        SELECT m.principal, m.aliases_key, m.day, i.person, i.work_country, i.employer,
               i.resident_country, i.covered_countries, i.covered_basis, m.matched_on,
               m.priority
        FROM (
            SELECT principal, aliases_key, day, principal AS name,
                   'principal' AS matched_on, 0 AS priority
            FROM who_when
            UNION ALL
            SELECT principal, aliases_key, day, unnest(principal_aliases),
                   'alias', 1
            FROM who_when
        ) m
        JOIN identities i
          ON i.principal = m.name
         AND m.day BETWEEN coalesce(i.valid_from, DATE '0001-01-01')
                       AND coalesce(i.valid_to, DATE '9999-12-31')
    )
    QUALIFY row_number() OVER (
        PARTITION BY principal, aliases_key, day ORDER BY priority, person) = 1
),
-- Approved travel on that day: where the person was expected to be instead.
travel_match AS (
    SELECT im.principal, im.aliases_key, im.day,
           any_value(t.country) AS travel_country,
           any_value(t.approved_by) AS travel_approved_by
    FROM identity_match im
    JOIN travel t ON t.person = im.person AND im.day BETWEEN t.start_day AND t.end_day
    GROUP BY im.principal, im.aliases_key, im.day
)
SELECT g.rowid AS group_id, g.store_id, g.principal, g.caller, g.day, g.events,
    g.first_seen, g.last_seen, g.sample_event_ids, g.actions, g.claimed_countries,
    g.provider, g.region, cl.caller_kind, cl.ip,
    cl.ip_registered, cl.ip_located, cl.ip_country_kind, cl.ip_country_source,
    cl.ip_answers, cl.ip_disagree,
    cl.host_provider, cl.host_region, cl.host_country, cl.anonymiser,
    cl.egress_country, cl.egress_office,
    -- The caller IP's country counts as the person's place only when the address is
    -- not the organisation's own egress (which says more), not an anonymiser (which
    -- hides the person) and not a cloud host (a workload, not a desk).
    CASE WHEN cl.egress_country IS NULL AND cl.anonymiser IS NULL
              AND cl.host_provider IS NULL THEN cl.ip_country END AS ip_country,
    CASE WHEN cl.egress_country IS NULL THEN cl.host_country END AS cloud_host_country,
    CASE WHEN cl.caller_kind IN ('provider_internal', 'provider_service')
         THEN rc.country END AS service_country,
    im.person, im.work_country, im.employer, im.matched_on,
    im.resident_country, im.covered_countries, im.covered_basis,
    tm.travel_country, tm.travel_approved_by,
    -- Where the person was expected on that day: on approved travel, else at work.
    coalesce(tm.travel_country, im.work_country) AS person_country,
    cs.data_classes
FROM access_groups g
JOIN classes cs USING (store_id)
LEFT JOIN callers cl ON cl.caller_key = coalesce(g.caller, '')
LEFT JOIN region_country rc ON rc.provider = g.provider AND rc.region = g.region
LEFT JOIN identity_match im
  ON im.principal IS NOT DISTINCT FROM g.principal
 AND im.aliases_key IS NOT DISTINCT FROM g.aliases_key
 AND im.day = g.day
LEFT JOIN travel_match tm
  ON tm.principal IS NOT DISTINCT FROM g.principal
 AND tm.aliases_key IS NOT DISTINCT FROM g.aliases_key
 AND tm.day = g.day;
