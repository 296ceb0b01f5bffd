-- Accesses to protected data by a covered person (an employee of an entity owned from a
-- country of concern, or a resident there), wherever the access came from.
WITH hits AS (
    SELECT pa.group_id, ac.country AS concern, list(DISTINCT ac.data_class) AS classes
    FROM (SELECT group_id, data_classes, unnest(covered_countries) AS concern_country
          FROM protected_access WHERE covered_countries IS NOT NULL) pa
    JOIN access_covered ac
      ON ac.country = pa.concern_country AND list_contains(pa.data_classes, ac.data_class)
    GROUP BY pa.group_id, ac.country
)
SELECT pa.store_id AS resource, pa.principal, any_value(pa.person) AS person,
    h.concern AS country,
    flat_sorted(h.classes) AS data_classes,
    sum(pa.events) AS count, min(pa.first_seen) AS first_seen, max(pa.last_seen) AS last_seen,
    struct_pack(
        covered_basis := any_value(pa.covered_basis),
        employer := any_value(pa.employer),
        resident_country := any_value(pa.resident_country),
        caller_countries := list_sort(list(DISTINCT pa.ip_country)),
        callers := list_sort(list(DISTINCT pa.caller))[1:10],
        actions := flat_sorted(pa.actions)[1:10],
        sample_event_ids := flat_sorted(pa.sample_event_ids)[1:10]
    ) AS evidence
FROM hits h JOIN protected_access pa USING (group_id)
GROUP BY pa.store_id, pa.principal, h.concern
