-- stg_crm__complaints: every landed row of raw_crm_complaint, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('crm_complaint') }}

with

source as (

    select * from {{ source('raw', 'raw_crm_complaint') }}{{ only_new_deliveries('crm_complaint') }}

),

parsed as (

    select
        *,
        {{ parse_timestamp('created_at') }} as created_at_parsed,
        {{ parse_timestamp('closed_at') }} as closed_at_parsed,
        {{ parse_timestamp('updated_at') }} as updated_at_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when complaint_id is null
                then { 'rule': 1, 'reason': 'complaint_id: missing' }
            -- rule 2
            when created_at is not null and created_at_parsed is null
                then { 'rule': 2, 'reason': 'created_at: not a timestamp ' || {{ quote_value('created_at') }} }
            when closed_at is not null and closed_at_parsed is null
                then { 'rule': 2, 'reason': 'closed_at: not a timestamp ' || {{ quote_value('closed_at') }} }
            when updated_at is not null and updated_at_parsed is null
                then { 'rule': 2, 'reason': 'updated_at: not a timestamp ' || {{ quote_value('updated_at') }} }
            -- rule 3
            when channel is null
                then { 'rule': 3, 'reason': 'channel: missing' }
            when channel not in ('hotline', 'store', 'online', 'regulator')
                then { 'rule': 3, 'reason': 'channel: unknown value ' || {{ quote_value('channel') }} }
            when category is null
                then { 'rule': 3, 'reason': 'category: missing' }
            when category not in ('mobile_network', 'broadband', 'billing', 'service_attitude', 'product', 'other')
                then { 'rule': 3, 'reason': 'category: unknown value ' || {{ quote_value('category') }} }
            when severity is null
                then { 'rule': 3, 'reason': 'severity: missing' }
            when severity not in ('normal', 'urgent')
                then { 'rule': 3, 'reason': 'severity: unknown value ' || {{ quote_value('severity') }} }
            when status is null
                then { 'rule': 3, 'reason': 'status: missing' }
            when status not in ('open', 'closed', 'cancelled')
                then { 'rule': 3, 'reason': 'status: unknown value ' || {{ quote_value('status') }} }
            -- rule 5
            when closed_at_parsed < created_at_parsed
                then { 'rule': 5, 'reason': 'closed_at before created_at' }
            -- rule 6
            when status = 'closed' and closed_at_parsed is null
                then { 'rule': 6, 'reason': 'status closed without closed_at' }
        end as reject

    from parsed

),

final as (

    select
        complaint_id,
        customer_id,
        city_code,
        channel,
        category,
        severity,
        summary,
        created_at_parsed as created_at,
        closed_at_parsed as closed_at,
        status,
        updated_at_parsed as updated_at,
        _file,
        _file_date,
        _line,
        {{ newest_delivery() }} as _loaded_through,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'complaint_id': complaint_id,
            'customer_id': customer_id,
            'city_code': city_code,
            'channel': channel,
            'category': category,
            'severity': severity,
            'summary': summary,
            'created_at': created_at,
            'closed_at': closed_at,
            'status': status,
            'updated_at': updated_at
        })::varchar end as raw_values

    from validated

)

select * from final
