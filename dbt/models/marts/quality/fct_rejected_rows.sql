-- fct_rejected_rows: every rejected record, one row each (source-extracts.md section 6): the
-- staging rows that break an acceptance rule (the lowest-numbered one, rule 4 judged here
-- against the current reference data: macros/acceptance) and the records that could not be
-- split into the header's fields (raw_unparsed_records, rule 2); each with its class, the
-- kind of fault, counted on the data health page.
-- Incremental by delivery: the rows of the files delivered since the last build are judged
-- again; every file's when a reference file came (rule 4).
{{ incremental_by_delivery(rejudged_by_reference=true, file_column='file_name') }}

{%- set staging_models = [
    ('crm_queue_ticket', 'stg_crm__queue_tickets'),
    ('crm_complaint', 'stg_crm__complaints'),
    ('crm_survey', 'stg_crm__surveys'),
    ('crm_subscriber', 'stg_crm__subscribers'),
    ('billing_dispute', 'stg_billing__disputes'),
    ('billing_refund', 'stg_billing__refunds'),
    ('billing_bill_run', 'stg_billing__bill_runs'),
    ('cc_call', 'stg_cc__calls'),
    ('fo_work_order', 'stg_fo__work_orders'),
    ('net_speed_test', 'stg_net__speed_tests'),
    ('ref_city', 'stg_ref__cities'),
    ('ref_district', 'stg_ref__districts'),
    ('ref_store', 'stg_ref__stores'),
    ('ref_team', 'stg_ref__teams'),
    ('ref_agent', 'stg_ref__agents'),
] %}

with

{% for entity, model in staging_models %}
{%- set landed = source('raw', 'raw_' ~ entity) %}
{{ entity }}_judged as (

    select * from (
        select
            '{{ entity }}' as entity,
            _file,
            _file_date,
            _line,
            {{ acceptance_verdict(entity) }} as verdict,
            raw_values,
            false as unparsed
        from {{ ref(model) }}{{ only_new_deliveries(rejudged_by_reference=true) }}
    )
    where verdict is not null

),

-- staging keeps the delivered values of the rows it rejects itself; those of a row only
-- rule 4 rejects come from the landing table
{{ entity }}_rejects as (

    select
        judged.entity,
        judged._file,
        judged._file_date,
        judged._line,
        judged.verdict,
        judged.unparsed,
        coalesce(
            judged.raw_values,
            case when delivered._file is not null
                then {{ delivered_values(landed, 'delivered') }}::varchar end
        ) as raw_values
    from {{ entity }}_judged as judged
    left join (
        select * from {{ landed }}{{ only_new_deliveries(rejudged_by_reference=true) }}
    ) as delivered
        on judged.raw_values is null
        and judged._file = delivered._file
        and judged._line = delivered._line

),

{% endfor %}
unparsed as (

    select * from {{ source('raw', 'raw_unparsed_records') }}{{ only_new_deliveries(rejudged_by_reference=true) }}

),

unparsed_rejects as (

    select
        entity,
        _file,
        _file_date,
        _line,
        { 'rule': 2, 'reason': reason } as verdict,
        true as unparsed,
        to_json({ 'raw_record': raw_record })::varchar as raw_values
    from unparsed

),

rejects as (

    {% for entity, model in staging_models %}
    select * from {{ entity }}_rejects
    union all
    {% endfor %}
    select * from unparsed_rejects

),

final as (

    select
        entity,
        _file as file_name,
        _file_date as business_date,
        _line as line,
        verdict.rule as rule,
        verdict.reason as reason,
        -- the reason without the value it quotes: what the health page and the rejects
        -- CSV count ("arrived_at: not a timestamp", "wrong number of fields")
        case
            when verdict.reason like '% fields, header has %' then 'wrong number of fields'
            else regexp_replace(verdict.reason, ' ''.*', '', 's')
        end as reject_class,
        unparsed,
        raw_values,
        {{ newest_delivery() }} as _loaded_through
    from rejects

)

select * from final
