-- Accesses to protected data whose location no signal establishes (and not through an
-- anonymiser: access.anonymized-caller). Unknown is where a reviewer needs the evidence
-- most: every IP signal is kept.
SELECT pa.store_id AS resource, pa.principal, any_value(pa.person) AS person, NULL AS country,
    any_value(pa.data_classes) AS data_classes,
    sum(pa.events) AS count, min(pa.first_seen) AS first_seen, max(pa.last_seen) AS last_seen,
    struct_pack(
        callers := list_sort(list(DISTINCT coalesce(pa.caller, '(none)')))[1:10],
        caller_kinds := list_sort(list(DISTINCT pa.caller_kind)),
        identity_known := bool_or(pa.person IS NOT NULL),
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
        actions := flat_sorted(pa.actions)[1:10],
        sample_event_ids := flat_sorted(pa.sample_event_ids)[1:10]
    ) AS evidence
FROM protected_access pa JOIN access_verdict v USING (group_id)
WHERE v.effective_country IS NULL AND pa.anonymiser IS NULL
GROUP BY pa.store_id, pa.principal
