-- Who can read bulk DSP data without any access logged (28 CFR 202.201: access includes
-- the ability to read): a principal whose IAM policies grant reading a store
-- (inventory/iam_access.py) and who is a covered person, works or lives in a country of
-- concern, or is anyone at all or an account outside the IAM export (a bucket policy's
-- grant whose holder cannot be told), where the store holds more than a threshold of a
-- category (any government-related data), or a volume the inventory does not give.
WITH who AS (
    SELECT principal, person, covered_countries, covered_basis, work_country,
        resident_country
    FROM identities
    QUALIFY row_number() OVER (
        PARTITION BY principal ORDER BY valid_to DESC NULLS FIRST, person) = 1
),
bulk AS (
    SELECT v.store_id,
        list_sort(list(v.category)) AS categories,
        list_sort(list(v.category) FILTER (WHERE v.subjects IS NULL)) AS volume_unknown,
        max(v.subjects) AS subjects,
        list_sort(list(v.category || ' more than ' || CAST(t.more_than AS VARCHAR)))
            AS thresholds
    FROM dsp_store_volumes v JOIN dsp_thresholds t USING (category)
    WHERE v.category <> 'combined'
      AND (v.subjects IS NULL OR v.subjects > t.more_than)
    GROUP BY v.store_id
),
judged AS (
    SELECT p.store_id, p.principal, w.person, p.via, p.actions, p.statements,
        p.conditional, p.verdict, p.notes, w.covered_basis,
        CASE
            WHEN w.covered_countries IS NOT NULL THEN w.covered_countries
            WHEN w.resident_country IN (SELECT country FROM dsp_countries)
                THEN [w.resident_country]
            WHEN w.work_country IN (SELECT country FROM dsp_countries)
                THEN [w.work_country]
        END AS countries,
        CASE
            WHEN w.covered_countries IS NOT NULL THEN 'covered person'
            WHEN w.resident_country IN (SELECT country FROM dsp_countries)
                THEN 'resident in a country of concern'
            WHEN w.work_country IN (SELECT country FROM dsp_countries)
                THEN 'works in a country of concern'
            WHEN p.principal = '*' THEN 'anyone (a public grant)'
            WHEN p.via = 'bucket policy' AND w.person IS NULL
                THEN 'a principal outside the IAM export, not in the identities'
        END AS counterparty,
        b.categories, b.volume_unknown, b.subjects, b.thresholds
    FROM dsp_potential p
    JOIN bulk b USING (store_id)
    LEFT JOIN who w ON w.principal = p.principal
)
SELECT j.store_id AS resource, j.principal, j.person, j.countries[1] AS country,
    list_sort(list(DISTINCT sc.data_class)) AS data_classes,
    coalesce(any_value(j.subjects), 0) AS count,
    CAST(NULL AS VARCHAR) AS first_seen, CAST(NULL AS VARCHAR) AS last_seen,
    CASE WHEN bool_or(j.verdict = 'allowed') THEN 'critical' ELSE 'high' END AS severity,
    struct_pack(
        verdict := CASE WHEN bool_or(j.verdict = 'allowed') THEN 'can read' ELSE 'unknown' END,
        counterparty := any_value(j.counterparty),
        covered_basis := any_value(j.covered_basis),
        countries := any_value(j.countries),
        categories := any_value(j.categories),
        thresholds := any_value(j.thresholds),
        volume_unknown := any_value(j.volume_unknown),
        via := list_sort(list(DISTINCT j.via)),
        actions := flat_sorted(j.actions),
        statements := flat_sorted(j.statements)[1:10],
        conditional := bool_and(j.conditional),
        not_evaluated := flat_sorted(j.notes)[1:10]
    ) AS evidence
FROM judged j
LEFT JOIN store_classes sc ON sc.store_id = j.store_id
WHERE j.counterparty IS NOT NULL
GROUP BY j.store_id, j.principal, j.person, j.countries
