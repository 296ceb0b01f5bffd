-- Accesses to protected data from a country the policy prohibits for its class
-- (data_classes.<class>.access.prohibited_countries), by any signal of where the caller
-- was. The query is shared with access.outside-allowed-countries: view
-- access_from_countries in rules/shared/access.sql.
SELECT resource, principal, person, country, data_classes, count, first_seen, last_seen,
    evidence
FROM access_from_countries
WHERE clause = 'prohibited_countries'
