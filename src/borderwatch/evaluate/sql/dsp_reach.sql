-- Data Security Program: who reached which subjects of which category on which day.
-- The counterparty (28 CFR 202.210) of an access is, in this order: a covered person
-- by residence (person:<name>); the employer of a covered person, an entity covered
-- through the ownership graph or a country of concern's government (entity:<id>);
-- another covered person (person:<name>); else the country of concern the caller's
-- address or cloud host is in (country:<ISO>). Accesses by no counterparty are not here.
-- Each store also counts under 'combined' (evaluate/dsp_tables.py), with its whole
-- volume, so data of several categories is counted together as well.
CREATE OR REPLACE TEMP TABLE dsp_reach AS
WITH parties AS (
    SELECT DISTINCT g.store_id, g.principal, g.aliases_key, g.caller, g.day, pa.person,
        CASE
            WHEN pa.covered_countries IS NOT NULL
                 AND list_contains(pa.covered_countries, pa.resident_country)
                THEN 'person:' || coalesce(pa.person, pa.principal)
            WHEN pa.covered_countries IS NOT NULL AND pa.employer IS NOT NULL
                THEN 'entity:' || pa.employer
            WHEN pa.covered_countries IS NOT NULL
                THEN 'person:' || coalesce(pa.person, pa.principal)
            WHEN pa.ip_country IN (SELECT country FROM dsp_countries)
                THEN 'country:' || pa.ip_country
            WHEN pa.cloud_host_country IN (SELECT country FROM dsp_countries)
                THEN 'country:' || pa.cloud_host_country
        END AS counterparty,
        CASE
            WHEN pa.covered_countries IS NOT NULL THEN pa.covered_countries
            WHEN pa.ip_country IN (SELECT country FROM dsp_countries) THEN [pa.ip_country]
            ELSE [pa.cloud_host_country]
        END AS concern_countries,
        pa.covered_basis, pa.data_classes
    FROM access_groups g
    JOIN protected_access pa ON pa.group_id = g.rowid
    WHERE g.store_id IN (SELECT store_id FROM dsp_store_volumes)
)
SELECT p.counterparty, v.category, s.day, s.subject, s.store_id, s.event_id,
    v.subjects AS store_subjects, p.person, p.concern_countries, p.covered_basis,
    p.data_classes
FROM dsp_subject_days s
JOIN parties p
  ON p.store_id = s.store_id
 AND p.principal IS NOT DISTINCT FROM s.principal
 AND p.aliases_key IS NOT DISTINCT FROM s.aliases_key
 AND p.caller IS NOT DISTINCT FROM s.caller
 AND p.day = s.day
JOIN dsp_store_volumes v ON v.store_id = s.store_id
WHERE p.counterparty IS NOT NULL;
