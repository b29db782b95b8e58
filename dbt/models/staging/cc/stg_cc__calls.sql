-- stg_cc__calls: every landed row of raw_cc_call, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('cc_call') }}

with

source as (

    select * from {{ source('raw', 'raw_cc_call') }}{{ only_new_deliveries('cc_call') }}

),

parsed as (

    select
        *,
        {{ parse_timestamp('arrived_at') }} as arrived_at_parsed,
        {{ parse_timestamp('ivr_exit_at') }} as ivr_exit_at_parsed,
        {{ parse_timestamp('queue_entered_at') }} as queue_entered_at_parsed,
        {{ parse_timestamp('answered_at') }} as answered_at_parsed,
        {{ parse_timestamp('ended_at') }} as ended_at_parsed,
        {{ parse_integer('transferred') }} as transferred_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when call_id is null
                then { 'rule': 1, 'reason': 'call_id: missing' }
            -- rule 2
            when arrived_at is not null and arrived_at_parsed is null
                then { 'rule': 2, 'reason': 'arrived_at: not a timestamp ' || {{ quote_value('arrived_at') }} }
            when ivr_exit_at is not null and ivr_exit_at_parsed is null
                then { 'rule': 2, 'reason': 'ivr_exit_at: not a timestamp ' || {{ quote_value('ivr_exit_at') }} }
            when queue_entered_at is not null and queue_entered_at_parsed is null
                then { 'rule': 2, 'reason': 'queue_entered_at: not a timestamp ' || {{ quote_value('queue_entered_at') }} }
            when answered_at is not null and answered_at_parsed is null
                then { 'rule': 2, 'reason': 'answered_at: not a timestamp ' || {{ quote_value('answered_at') }} }
            when ended_at is not null and ended_at_parsed is null
                then { 'rule': 2, 'reason': 'ended_at: not a timestamp ' || {{ quote_value('ended_at') }} }
            when transferred is not null and transferred_parsed is null
                then { 'rule': 2, 'reason': 'transferred: not an integer ' || {{ quote_value('transferred') }} }
            -- rule 3
            when skill_group is null
                then { 'rule': 3, 'reason': 'skill_group: missing' }
            when skill_group not in ('general', 'broadband', 'billing', 'mobile', 'vip')
                then { 'rule': 3, 'reason': 'skill_group: unknown value ' || {{ quote_value('skill_group') }} }
            -- rule 5
            when queue_entered_at_parsed < arrived_at_parsed
                then { 'rule': 5, 'reason': 'queue_entered_at before arrived_at' }
            when answered_at_parsed < arrived_at_parsed
                then { 'rule': 5, 'reason': 'answered_at before arrived_at' }
            when ended_at_parsed < arrived_at_parsed
                then { 'rule': 5, 'reason': 'ended_at before arrived_at' }
            when answered_at_parsed < queue_entered_at_parsed
                then { 'rule': 5, 'reason': 'answered_at before queue_entered_at' }
            when ended_at_parsed < queue_entered_at_parsed
                then { 'rule': 5, 'reason': 'ended_at before queue_entered_at' }
            when ended_at_parsed < answered_at_parsed
                then { 'rule': 5, 'reason': 'ended_at before answered_at' }
            -- rule 6
            when ended_at_parsed is null
                then { 'rule': 6, 'reason': 'ended_at: missing' }
            when answered_at_parsed is not null and queue_entered_at_parsed is null
                then { 'rule': 6, 'reason': 'answered_at without queue_entered_at' }
            when answered_at_parsed is not null and agent_id is null
                then { 'rule': 6, 'reason': 'answered_at without agent_id' }
        end as reject

    from parsed

),

final as (

    select
        call_id,
        caller_id,
        city_code,
        arrived_at_parsed as arrived_at,
        ivr_exit_at_parsed as ivr_exit_at,
        queue_entered_at_parsed as queue_entered_at,
        answered_at_parsed as answered_at,
        ended_at_parsed as ended_at,
        skill_group,
        agent_id,
        transferred_parsed as transferred,
        _file,
        _file_date,
        _line,
        {{ newest_delivery() }} as _loaded_through,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'call_id': call_id,
            'caller_id': caller_id,
            'city_code': city_code,
            'arrived_at': arrived_at,
            'ivr_exit_at': ivr_exit_at,
            'queue_entered_at': queue_entered_at,
            'answered_at': answered_at,
            'ended_at': ended_at,
            'skill_group': skill_group,
            'agent_id': agent_id,
            'transferred': transferred
        })::varchar end as raw_values

    from validated

)

select * from final
