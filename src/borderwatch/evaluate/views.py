"""Views every rule builds on: protected stores, residency verdicts, protected accesses.

Created once per scan after all tables are loaded; rules only read them. They are
temporary: derived afresh by every scan, never written into an incremental scan's state
file (and cheaper to build than tables stored in a database file).
"""

from __future__ import annotations

# The groups the access rules judge: successful accesses to one protected store that
# share every signal (principal, caller, day, the event's provider and region), with
# their count, time span and samples. Readers hand over these groups in pieces
# (ingest/digest.py); merging the pieces here gives exactly the groups of all events
# at once. Rules then work on thousands of groups instead of millions of events.
# A group is known by its rowid in this table (numbering the rows with a window
# function instead costs more than the grouping).
ACCESS_GROUPS = """
CREATE OR REPLACE TEMP TABLE access_groups AS
SELECT store_id, principal, any_value(principal_aliases) AS principal_aliases,
    aliases_key, caller, day, provider, region,
    -- A record delivered twice (same event id) counts twice (the scan warns when
    -- its sample of event ids holds such repeats: ingest/repeats.py); each group
    -- keeps its smallest and largest id, action and claimed country as samples,
    -- which the rules de-duplicate.
    CAST(sum(events) AS BIGINT) AS events,
    min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    list_distinct([min(min_event_id), max(max_event_id)]) AS sample_event_ids,
    list_distinct([min(min_action), max(max_action)]) AS actions,
    list_distinct([min(min_claimed_country), max(max_claimed_country)])
        AS claimed_countries
FROM access_parts
GROUP BY store_id, principal, aliases_key, caller, day, provider, region
"""

# Whether approval `a` covers the partition of store `s` (see residency_by_class).
_SAME_PARTITION = """(CASE WHEN a.partition IS NOT NULL THEN a.partition = lower(s.partition)
          WHEN a.region IS NOT NULL THEN TRUE
          ELSE s.default_partition END)"""


def _outside_countries(partition_check: str) -> str:
    """SQL: the store's countries no approval of the class covers, in order."""
    return f"""(SELECT list(c.country ORDER BY c.country)
             FROM store_countries c
             WHERE c.store_id = p.store_id
               AND NOT EXISTS (
                   SELECT 1 FROM storage_approved a
                   WHERE a.data_class = p.data_class
                     AND (a.provider IS NULL OR a.provider = s.provider)
                     AND (a.region IS NULL OR a.region = s.location)
                     AND (a.country IS NULL OR a.country = c.country)
                     AND {partition_check}))"""


def _approved_anywhere(partition_check: str) -> str:
    """SQL: whether an approval naming no country covers the store (for global ones)."""
    return f"""EXISTS (
                SELECT 1 FROM storage_approved a
                WHERE a.data_class = p.data_class AND a.country IS NULL
                  AND (a.provider IS NULL OR a.provider = s.provider)
                  AND (a.region IS NULL OR a.region = s.location)
                  AND {partition_check})"""


# Order matters: later views use earlier ones.
VIEWS: tuple[str, ...] = (
    """
    CREATE OR REPLACE TEMP VIEW protected_store_classes AS
    SELECT DISTINCT sc.store_id, sc.data_class
    FROM store_classes sc JOIN protected_classes pc USING (data_class)
    """,
    # One row per (protected store, protected class): is its location approved?
    # A location in several countries (multi-region) is approved only if every country
    # is; a global location only by an approval that names no country; an unknown one
    # never. Partitions are hard boundaries: an approval covers a store's partition when
    # it names it, names the store's region (which implies it), or names neither and the
    # store is in its provider's default partition. `partition_blocked` says the store
    # would be approved if partitions were ignored, so the finding can say why.
    f"""
    CREATE OR REPLACE TEMP VIEW residency_by_class AS
    WITH checked AS (
        SELECT p.store_id, p.data_class, s.provider, s.location, s.location_kind,
            {_outside_countries(_SAME_PARTITION)} AS outside_countries,
            {_outside_countries("TRUE")} AS outside_any_partition,
            {_approved_anywhere(_SAME_PARTITION)} AS approved_anywhere,
            {_approved_anywhere("TRUE")} AS approved_anywhere_any_partition
        FROM protected_store_classes p JOIN stores s USING (store_id)
    ), judged AS (
        SELECT *,
            CASE
                WHEN location_kind = 'unknown' THEN 'unknown'
                WHEN location_kind = 'global' THEN
                    CASE WHEN approved_anywhere THEN 'approved' ELSE 'outside' END
                WHEN len(coalesce(outside_countries, [])) = 0 THEN 'approved'
                ELSE 'outside'
            END AS verdict
        FROM checked
    )
    SELECT store_id, data_class, location_kind,
        coalesce(outside_countries, []) AS outside_countries, verdict,
        verdict = 'outside' AND CASE
            WHEN location_kind = 'global' THEN approved_anywhere_any_partition
            ELSE len(coalesce(outside_any_partition, [])) < len(outside_countries)
        END AS partition_blocked
    FROM judged
    """,
    ACCESS_GROUPS,
    """
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
            SELECT m.principal, m.aliases_key, m.day, i.*, m.matched_on, m.priority
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
     AND tm.day = g.day
    """,
    # One verdict per group of accesses (all its signals are equal): the country that
    # decides and how sure we are (precedence and confidence: docs/jurisdiction.md).
    """
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
    FROM protected_access
    """,
)
