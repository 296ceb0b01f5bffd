-- What the Data Security Program count rules share (rules/dsp/bulk-threshold-reached,
-- prohibited-transaction, government-related-data): every counterparty and category
-- whose count is over its threshold in some 12 months, or cannot be told (a store read
-- whole without a volume), as the columns of a finding with the evidence a reviewer
-- needs (docs/dsp.md, "Findings"). The rules choose the rows and the severity.
CREATE OR REPLACE TEMP VIEW dsp_judged AS
SELECT category AS resource, counterparty AS principal, person,
    countries[1] AS country, data_classes,
    coalesce(crossing_count, peak) AS count,
    CAST(first_day AS VARCHAR) AS first_seen, CAST(last_day AS VARCHAR) AS last_seen,
    verdict, category, transaction_class, cisa_in_place,
    struct_pack(
        verdict := verdict,
        category := category,
        window_from := CAST(window_from AS VARCHAR),
        window_to := CAST(window_to AS VARCHAR),
        distinct_count := crossing_count,
        named_subjects := named_subjects,
        whole_store_subjects := whole_store_subjects,
        peak_count := peak,
        threshold := threshold,
        unit := unit,
        threshold_section := section,
        threshold_override_reason := override_reason,
        transaction_class := transaction_class,
        transaction_section := transaction_section,
        agreement := agreement,
        agreement_reference := agreement_reference,
        cisa_in_place := cisa_in_place,
        cisa_evidence := cisa_evidence,
        covered_basis := covered_basis,
        countries := countries,
        stores := stores,
        whole_stores := whole_stores,
        volume_unknown_stores := volume_unknown_stores,
        sample_subjects := sample_subjects,
        sample_event_ids := sample_event_ids
    ) AS evidence
FROM dsp_verdicts
WHERE verdict IN ('reached', 'unknown');
