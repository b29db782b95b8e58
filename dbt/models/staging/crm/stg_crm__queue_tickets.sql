-- stg_crm__queue_tickets: every landed row of raw_crm_queue_ticket, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('crm_queue_ticket') }}

with

source as (

    select * from {{ source('raw', 'raw_crm_queue_ticket') }}{{ only_new_deliveries('crm_queue_ticket') }}

),

parsed as (

    select
        *,
        {{ parse_timestamp('taken_at') }} as taken_at_parsed,
        {{ parse_timestamp('called_at') }} as called_at_parsed,
        {{ parse_timestamp('service_end_at') }} as service_end_at_parsed,
        {{ parse_timestamp('abandoned_at') }} as abandoned_at_parsed,
        {{ parse_timestamp('updated_at') }} as updated_at_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when ticket_id is null
                then { 'rule': 1, 'reason': 'ticket_id: missing' }
            -- rule 2
            when taken_at is not null and taken_at_parsed is null
                then { 'rule': 2, 'reason': 'taken_at: not a timestamp ' || {{ quote_value('taken_at') }} }
            when called_at is not null and called_at_parsed is null
                then { 'rule': 2, 'reason': 'called_at: not a timestamp ' || {{ quote_value('called_at') }} }
            when service_end_at is not null and service_end_at_parsed is null
                then { 'rule': 2, 'reason': 'service_end_at: not a timestamp ' || {{ quote_value('service_end_at') }} }
            when abandoned_at is not null and abandoned_at_parsed is null
                then { 'rule': 2, 'reason': 'abandoned_at: not a timestamp ' || {{ quote_value('abandoned_at') }} }
            when updated_at is not null and updated_at_parsed is null
                then { 'rule': 2, 'reason': 'updated_at: not a timestamp ' || {{ quote_value('updated_at') }} }
            -- rule 3
            when business_type is null
                then { 'rule': 3, 'reason': 'business_type: missing' }
            when business_type not in ('activation', 'payment', 'broadband', 'complaint', 'device', 'other')
                then { 'rule': 3, 'reason': 'business_type: unknown value ' || {{ quote_value('business_type') }} }
            when status is null
                then { 'rule': 3, 'reason': 'status: missing' }
            when status not in ('waiting', 'served', 'abandoned')
                then { 'rule': 3, 'reason': 'status: unknown value ' || {{ quote_value('status') }} }
            -- rule 5
            when called_at_parsed < taken_at_parsed
                then { 'rule': 5, 'reason': 'called_at before taken_at' }
            when service_end_at_parsed < called_at_parsed
                then { 'rule': 5, 'reason': 'service_end_at before called_at' }
            when abandoned_at_parsed < taken_at_parsed
                then { 'rule': 5, 'reason': 'abandoned_at before taken_at' }
            -- rule 6
            when status = 'served' and called_at_parsed is null
                then { 'rule': 6, 'reason': 'status served without called_at' }
            when status = 'abandoned' and abandoned_at_parsed is null
                then { 'rule': 6, 'reason': 'status abandoned without abandoned_at' }
        end as reject

    from parsed

),

final as (

    select
        ticket_id,
        store_id,
        business_type,
        taken_at_parsed as taken_at,
        called_at_parsed as called_at,
        service_end_at_parsed as service_end_at,
        abandoned_at_parsed as abandoned_at,
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
            'ticket_id': ticket_id,
            'store_id': store_id,
            'business_type': business_type,
            'taken_at': taken_at,
            'called_at': called_at,
            'service_end_at': service_end_at,
            'abandoned_at': abandoned_at,
            'status': status,
            'updated_at': updated_at
        })::varchar end as raw_values

    from validated

)

select * from final
