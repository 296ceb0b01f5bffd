-- Macros the rules share. Each expands in place where it is used, so the ones holding
-- an aggregate (list, bool_or) work inside a rule's GROUP BY like the aggregate itself.

-- The sorted distinct values of a list column over the group, flattened into one list.
CREATE OR REPLACE TEMP MACRO flat_sorted(list_column) AS
    list_sort(list_distinct(flatten(list(list_column))));

-- The sorted distinct non-null values of an expression over the group.
CREATE OR REPLACE TEMP MACRO distinct_sorted(value) AS
    list_sort(list(DISTINCT value) FILTER (WHERE (value) IS NOT NULL));

-- The best confidence among a finding's groups of accesses (high > medium > low > none).
CREATE OR REPLACE TEMP MACRO best_confidence(confidence) AS
    CASE WHEN bool_or(confidence = 'high') THEN 'high'
         WHEN bool_or(confidence = 'medium') THEN 'medium'
         WHEN bool_or(confidence = 'low') THEN 'low' ELSE 'none' END;

-- The IP data sources that decided a caller's country, sorted and joined ("a, b"):
-- a source counts only where a country was decided.
CREATE OR REPLACE TEMP MACRO deciding_sources(source, country) AS
    array_to_string(list_sort(list(DISTINCT source)
        FILTER (WHERE source IS NOT NULL AND country IS NOT NULL)), ', ');

-- Every IP data source's answer over the group, sorted, at most 30.
CREATE OR REPLACE TEMP MACRO all_ip_answers(answers) AS
    list_sort(list_distinct(flatten(list(answers) FILTER (WHERE answers IS NOT NULL))))[1:30];
