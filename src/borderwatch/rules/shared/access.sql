-- Accesses to protected data from a country a policy clause names, one row per
-- (policy clause, store, principal, country). The clause is `prohibited_countries`
-- (access.prohibited-jurisdiction) or `allowed_countries` (access.outside-allowed-
-- countries: table access_prohibited lists the countries outside the allowed ones), so
-- each finding cites the clause, and law, that fired. Reads protected_access: one row
-- per group of accesses sharing every signal (evaluate/sql/protected_access.sql).
CREATE OR REPLACE TEMP VIEW access_from_countries AS
WITH signals AS (
    SELECT group_id, data_classes, 'corporate_egress' AS basis, egress_country AS country
    FROM protected_access WHERE egress_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes, 'caller_ip', ip_country
    FROM protected_access WHERE ip_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes, 'cloud_host', cloud_host_country
    FROM protected_access WHERE cloud_host_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes,
        CASE WHEN travel_country IS NULL THEN 'work_country' ELSE 'approved_travel' END,
        person_country
    FROM protected_access WHERE person_country IS NOT NULL
    UNION ALL
    SELECT group_id, data_classes, 'provider_region', service_country
    FROM protected_access WHERE service_country IS NOT NULL
),
-- One row per (clause, group, country), whatever the number of bases and classes.
hits AS (
    SELECT ap.clause, s.group_id, s.country AS signal_country,
        list(DISTINCT s.basis) AS bases, list(DISTINCT ap.data_class) AS classes
    FROM signals s JOIN access_prohibited ap
      ON ap.country = s.country AND list_contains(s.data_classes, ap.data_class)
    GROUP BY ap.clause, s.group_id, s.country
)
SELECT h.clause, pa.store_id AS resource, pa.principal, any_value(pa.person) AS person,
    h.signal_country AS country,
    flat_sorted(h.classes) AS data_classes,
    sum(pa.events) AS count, min(pa.first_seen) AS first_seen, max(pa.last_seen) AS last_seen,
    struct_pack(
        basis := flat_sorted(h.bases),
        confidence := best_confidence(v.confidence),
        callers := list_sort(list(DISTINCT pa.caller))[1:10],
        caller_kinds := list_sort(list(DISTINCT pa.caller_kind)),
        -- Registered and located countries side by side, so a disagreement is visible.
        ip_country_kinds := distinct_sorted(pa.ip_country_kind),
        registered_countries := distinct_sorted(pa.ip_registered),
        located_countries := distinct_sorted(pa.ip_located),
        country_source := deciding_sources(pa.ip_country_source, pa.ip_country),
        ip_disagreements := distinct_sorted(pa.ip_disagree),
        ip_answers := all_ip_answers(pa.ip_answers),
        cloud_hosts := distinct_sorted(pa.host_provider || ' ' || pa.host_region),
        anonymisers := distinct_sorted(pa.anonymiser),
        egress_offices := distinct_sorted(pa.egress_office),
        vendor_claimed_countries := flat_sorted(pa.claimed_countries),
        work_country := any_value(pa.work_country),
        travel_country := any_value(pa.travel_country),
        employer := any_value(pa.employer),
        identity_matched_on := any_value(pa.matched_on),
        actions := flat_sorted(pa.actions)[1:10],
        sample_event_ids := flat_sorted(pa.sample_event_ids)[1:10]
    ) AS evidence
FROM hits h JOIN protected_access pa USING (group_id) JOIN access_verdict v USING (group_id)
GROUP BY h.clause, pa.store_id, pa.principal, h.signal_country;
