"""Views every rule builds on: protected stores, residency verdicts, protected accesses.

Created once per scan after all tables are loaded; rules only read them.
"""

from __future__ import annotations

# Order matters: later views use earlier ones.
VIEWS: tuple[str, ...] = (
    """
    CREATE OR REPLACE VIEW protected_store_classes AS
    SELECT DISTINCT sc.store_id, sc.data_class
    FROM store_classes sc JOIN protected_classes pc USING (data_class)
    """,
    # One row per (protected store, protected class): is its location approved?
    # A location in several countries (multi-region) is approved only if every country
    # is; a global location only by an approval that names no country; an unknown one
    # never.
    """
    CREATE OR REPLACE VIEW residency_by_class AS
    WITH checked AS (
        SELECT p.store_id, p.data_class, s.provider, s.location, s.location_kind,
            (SELECT list(c.country ORDER BY c.country)
             FROM store_countries c
             WHERE c.store_id = p.store_id
               AND NOT EXISTS (
                   SELECT 1 FROM storage_approved a
                   WHERE a.data_class = p.data_class
                     AND (a.provider IS NULL OR a.provider = s.provider)
                     AND (a.region IS NULL OR a.region = s.location)
                     AND (a.country IS NULL OR a.country = c.country))
            ) AS outside_countries,
            EXISTS (
                SELECT 1 FROM storage_approved a
                WHERE a.data_class = p.data_class AND a.country IS NULL
                  AND (a.provider IS NULL OR a.provider = s.provider)
                  AND (a.region IS NULL OR a.region = s.location)
            ) AS approved_anywhere
        FROM protected_store_classes p JOIN stores s USING (store_id)
    )
    SELECT store_id, data_class, location_kind,
        coalesce(outside_countries, []) AS outside_countries,
        CASE
            WHEN location_kind = 'unknown' THEN 'unknown'
            WHEN location_kind = 'global' THEN
                CASE WHEN approved_anywhere THEN 'approved' ELSE 'outside' END
            WHEN len(coalesce(outside_countries, [])) = 0 THEN 'approved'
            ELSE 'outside'
        END AS verdict
    FROM checked
    """,
    # Successful requests that touched a store holding protected data.
    """
    CREATE OR REPLACE TABLE event_store AS
    SELECT DISTINCT r.event_id, k.store_id
    FROM (SELECT event_id, unnest(resources) AS key FROM events WHERE error_code IS NULL) r
    JOIN store_keys k ON k.key = r.key
    WHERE k.store_id IN (SELECT store_id FROM protected_store_classes)
    """,
    """
    CREATE OR REPLACE TABLE protected_access AS
    WITH classes AS (
        SELECT store_id, list(data_class ORDER BY data_class) AS data_classes
        FROM protected_store_classes GROUP BY store_id
    ),
    identity_match AS (
        SELECT event_id, person, work_country, employer, matched_on FROM (
            SELECT es.event_id, i.person, i.work_country, i.employer,
                   'principal' AS matched_on, 0 AS priority
            FROM event_store es JOIN events e USING (event_id)
            JOIN identities i ON i.principal = e.principal
            UNION ALL
            SELECT a.event_id, i.person, i.work_country, i.employer, 'alias', 1
            FROM (SELECT e.event_id, unnest(e.principal_aliases) AS alias
                  FROM events e WHERE e.event_id IN (SELECT event_id FROM event_store)) a
            JOIN identities i ON i.principal = a.alias
        )
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY priority, person) = 1
    )
    SELECT es.store_id, e.event_id, e.event_time, e.principal, e.action, e.caller,
        e.provider, e.region, cl.caller_kind, cl.ip, cl.ip_country,
        CASE WHEN cl.caller_kind IN ('provider_internal', 'provider_service')
             THEN rc.country END AS service_country,
        im.person, im.work_country, im.employer, im.matched_on,
        cs.data_classes
    FROM event_store es
    JOIN events e USING (event_id)
    JOIN classes cs USING (store_id)
    LEFT JOIN callers cl ON cl.caller_key = coalesce(e.caller, '')
    LEFT JOIN region_country rc ON rc.provider = e.provider AND rc.region = e.region
    LEFT JOIN identity_match im USING (event_id)
    """,
)
