-- Data Security Program: every (store, principal, caller, day, subject) an access to a
-- DSP store reached, from the digest pieces before they are merged away (the subject is
-- a digest key: ingest/subjects.py; 0 means the whole store). One smallest event id per
-- row is kept as the sample a reviewer can look up in the logs.
CREATE OR REPLACE TEMP TABLE dsp_subject_days AS
SELECT store_id, principal, aliases_key, caller, day, subject,
    min(min_event_id) AS event_id
FROM access_parts
WHERE subject IS NOT NULL
GROUP BY store_id, principal, aliases_key, caller, day, subject;
