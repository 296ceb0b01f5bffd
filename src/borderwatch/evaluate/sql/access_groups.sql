-- The groups the access rules judge: successful accesses to one protected store that
-- share every signal (principal, caller, day, the event's provider and region), with
-- their count, time span and samples. Readers hand over these groups in pieces
-- (ingest/digest.py); merging the pieces here gives exactly the groups of all events
-- at once. Rules then work on thousands of groups instead of millions of events.
-- A group is known by its rowid in this table (numbering the rows with a window
-- function instead costs more than the grouping).
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
GROUP BY store_id, principal, aliases_key, caller, day, provider, region;
