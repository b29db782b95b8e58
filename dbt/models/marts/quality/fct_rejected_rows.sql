-- fct_rejected_rows: every rejected record, one row each (source-extracts.md section 6):
-- the staging rows that break an acceptance rule (reject_rule 1..7, the lowest broken) and
-- the records that could not be split into the header's fields (raw_unparsed_records, rule 2);
-- each with its class: the kind of fault, counted on the data health page.

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
{{ entity }}_rejects as (

    select
        '{{ entity }}' as entity,
        _file,
        _file_date,
        _line,
        reject_rule,
        reject_reason,
        raw_values
    from {{ ref(model) }}
    where reject_rule is not null

),

{% endfor %}
unparsed as (

    select * from {{ source('raw', 'raw_unparsed_records') }}

),

unparsed_rejects as (

    select
        entity,
        _file,
        _file_date,
        _line,
        2 as reject_rule,
        reason as reject_reason,
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
        reject_rule as rule,
        reject_reason as reason,
        -- the reason without the value it quotes: what the health page and the rejects
        -- CSV count ("arrived_at: not a timestamp", "wrong number of fields")
        case
            when reject_reason like '% fields, header has %' then 'wrong number of fields'
            else regexp_replace(reject_reason, ' ''.*', '', 's')
        end as reject_class,
        raw_values
    from rejects

)

select * from final
