-- Accesses to protected data from a country outside those the policy allows for its
-- class (data_classes.<class>.access.allowed_countries), by any signal of where the
-- caller was. The query is shared with access.prohibited-jurisdiction: view
-- access_from_countries in rules/shared/access.sql.
SELECT * EXCLUDE (clause)
FROM access_from_countries
WHERE clause = 'allowed_countries'
