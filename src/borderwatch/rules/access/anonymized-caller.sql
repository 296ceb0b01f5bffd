-- Accesses to protected data through a VPN, proxy, Tor or hosting address, when neither
-- the organisation's egress nor the identity directory says where the person was.
SELECT store_id AS resource, principal, any_value(person) AS person, NULL AS country,
    any_value(data_classes) AS data_classes,
    sum(events) AS count, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    struct_pack(
        anonymisers := list_sort(list(DISTINCT anonymiser)),
        callers := list_sort(list(DISTINCT caller))[1:10],
        exit_countries := list_sort(list(DISTINCT coalesce(ip_located, ip_registered))),
        identity_known := bool_or(person IS NOT NULL),
        actions := flat_sorted(actions)[1:10],
        sample_event_ids := flat_sorted(sample_event_ids)[1:10]
    ) AS evidence
FROM protected_access
WHERE anonymiser IS NOT NULL AND egress_country IS NULL AND person_country IS NULL
GROUP BY store_id, principal
