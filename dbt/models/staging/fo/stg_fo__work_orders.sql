-- stg_fo__work_orders: every landed row of raw_fo_work_order, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('fo_work_order') }}

with

source as (

    select * from {{ source('raw', 'raw_fo_work_order') }}{{ only_new_deliveries('fo_work_order') }}

),

parsed as (

    select
        *,
        {{ parse_timestamp('created_at') }} as created_at_parsed,
        {{ parse_timestamp('promised_by') }} as promised_by_parsed,
        {{ parse_timestamp('appointment_start') }} as appointment_start_parsed,
        {{ parse_timestamp('appointment_end') }} as appointment_end_parsed,
        {{ parse_timestamp('arrived_at') }} as arrived_at_parsed,
        {{ parse_timestamp('completed_at') }} as completed_at_parsed,
        {{ parse_timestamp('updated_at') }} as updated_at_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when order_id is null
                then { 'rule': 1, 'reason': 'order_id: missing' }
            -- rule 2
            when created_at is not null and created_at_parsed is null
                then { 'rule': 2, 'reason': 'created_at: not a timestamp ' || {{ quote_value('created_at') }} }
            when promised_by is not null and promised_by_parsed is null
                then { 'rule': 2, 'reason': 'promised_by: not a timestamp ' || {{ quote_value('promised_by') }} }
            when appointment_start is not null and appointment_start_parsed is null
                then { 'rule': 2, 'reason': 'appointment_start: not a timestamp ' || {{ quote_value('appointment_start') }} }
            when appointment_end is not null and appointment_end_parsed is null
                then { 'rule': 2, 'reason': 'appointment_end: not a timestamp ' || {{ quote_value('appointment_end') }} }
            when arrived_at is not null and arrived_at_parsed is null
                then { 'rule': 2, 'reason': 'arrived_at: not a timestamp ' || {{ quote_value('arrived_at') }} }
            when completed_at is not null and completed_at_parsed is null
                then { 'rule': 2, 'reason': 'completed_at: not a timestamp ' || {{ quote_value('completed_at') }} }
            when updated_at is not null and updated_at_parsed is null
                then { 'rule': 2, 'reason': 'updated_at: not a timestamp ' || {{ quote_value('updated_at') }} }
            -- rule 3
            when order_type is null
                then { 'rule': 3, 'reason': 'order_type: missing' }
            when order_type not in ('install', 'repair')
                then { 'rule': 3, 'reason': 'order_type: unknown value ' || {{ quote_value('order_type') }} }
            when area_type is null
                then { 'rule': 3, 'reason': 'area_type: missing' }
            when area_type not in ('urban', 'rural')
                then { 'rule': 3, 'reason': 'area_type: unknown value ' || {{ quote_value('area_type') }} }
            when status is null
                then { 'rule': 3, 'reason': 'status: missing' }
            when status not in ('open', 'completed', 'cancelled')
                then { 'rule': 3, 'reason': 'status: unknown value ' || {{ quote_value('status') }} }
            when fault_cause not in ('fiber_cut', 'onu_fault', 'config', 'customer_side', 'no_fault_found')
                then { 'rule': 3, 'reason': 'fault_cause: unknown value ' || {{ quote_value('fault_cause') }} }
            -- rule 5
            when arrived_at_parsed < created_at_parsed
                then { 'rule': 5, 'reason': 'arrived_at before created_at' }
            when completed_at_parsed < created_at_parsed
                then { 'rule': 5, 'reason': 'completed_at before created_at' }
            when appointment_end_parsed < appointment_start_parsed
                then { 'rule': 5, 'reason': 'appointment_end before appointment_start' }
            -- rule 6
            when status = 'completed' and completed_at_parsed is null
                then { 'rule': 6, 'reason': 'status completed without completed_at' }
        end as reject

    from parsed

),

final as (

    select
        order_id,
        order_type,
        line_id,
        city_code,
        district_code,
        area_type,
        team_id,
        technician_id,
        created_at_parsed as created_at,
        promised_by_parsed as promised_by,
        appointment_start_parsed as appointment_start,
        appointment_end_parsed as appointment_end,
        arrived_at_parsed as arrived_at,
        completed_at_parsed as completed_at,
        status,
        fault_cause,
        updated_at_parsed as updated_at,
        _file,
        _file_date,
        _line,
        {{ newest_delivery() }} as _loaded_through,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'order_id': order_id,
            'order_type': order_type,
            'line_id': line_id,
            'city_code': city_code,
            'district_code': district_code,
            'area_type': area_type,
            'team_id': team_id,
            'technician_id': technician_id,
            'created_at': created_at,
            'promised_by': promised_by,
            'appointment_start': appointment_start,
            'appointment_end': appointment_end,
            'arrived_at': arrived_at,
            'completed_at': completed_at,
            'status': status,
            'fault_cause': fault_cause,
            'updated_at': updated_at
        })::varchar end as raw_values

    from validated

)

select * from final
