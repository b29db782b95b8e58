-- stg_net__speed_tests: every landed row of raw_net_speed_test, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('net_speed_test') }}

with

source as (

    select * from {{ source('raw', 'raw_net_speed_test') }}{{ only_new_deliveries('net_speed_test') }}

),

parsed as (

    select
        *,
        {{ parse_timestamp('tested_at') }} as tested_at_parsed,
        {{ parse_decimal('subscribed_down_mbps') }} as subscribed_down_mbps_parsed,
        {{ parse_decimal('measured_down_mbps') }} as measured_down_mbps_parsed,
        {{ parse_decimal('measured_up_mbps') }} as measured_up_mbps_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when test_id is null
                then { 'rule': 1, 'reason': 'test_id: missing' }
            -- rule 2
            when tested_at is not null and tested_at_parsed is null
                then { 'rule': 2, 'reason': 'tested_at: not a timestamp ' || {{ quote_value('tested_at') }} }
            when subscribed_down_mbps is not null and subscribed_down_mbps_parsed is null
                then { 'rule': 2, 'reason': 'subscribed_down_mbps: not a decimal ' || {{ quote_value('subscribed_down_mbps') }} }
            when measured_down_mbps is not null and measured_down_mbps_parsed is null
                then { 'rule': 2, 'reason': 'measured_down_mbps: not a decimal ' || {{ quote_value('measured_down_mbps') }} }
            when measured_up_mbps is not null and measured_up_mbps_parsed is null
                then { 'rule': 2, 'reason': 'measured_up_mbps: not a decimal ' || {{ quote_value('measured_up_mbps') }} }
            -- rule 3
            when method is null
                then { 'rule': 3, 'reason': 'method: missing' }
            when method not in ('wired_app', 'wifi_app', 'probe', 'technician')
                then { 'rule': 3, 'reason': 'method: unknown value ' || {{ quote_value('method') }} }
            -- rule 7
            when subscribed_down_mbps_parsed <= 0
                then { 'rule': 7, 'reason': 'subscribed_down_mbps: not > 0 ' || {{ quote_value('subscribed_down_mbps') }} }
            when measured_down_mbps_parsed < 0
                then { 'rule': 7, 'reason': 'measured_down_mbps: negative ' || {{ quote_value('measured_down_mbps') }} }
            when measured_up_mbps_parsed < 0
                then { 'rule': 7, 'reason': 'measured_up_mbps: negative ' || {{ quote_value('measured_up_mbps') }} }
        end as reject

    from parsed

),

final as (

    select
        test_id,
        line_id,
        city_code,
        tested_at_parsed as tested_at,
        method,
        subscribed_down_mbps_parsed as subscribed_down_mbps,
        measured_down_mbps_parsed as measured_down_mbps,
        measured_up_mbps_parsed as measured_up_mbps,
        _file,
        _file_date,
        _line,
        {{ newest_delivery() }} as _loaded_through,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'test_id': test_id,
            'line_id': line_id,
            'city_code': city_code,
            'tested_at': tested_at,
            'method': method,
            'subscribed_down_mbps': subscribed_down_mbps,
            'measured_down_mbps': measured_down_mbps,
            'measured_up_mbps': measured_up_mbps
        })::varchar end as raw_values

    from validated

)

select * from final
