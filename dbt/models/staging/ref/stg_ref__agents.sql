-- stg_ref__agents: every landed row of raw_ref_agent, typed, with the acceptance verdict
-- (source-extracts.md section 6): reject_rule = lowest-numbered rule broken, NULL = accepted.

with

source as (

    select * from {{ source('raw', 'raw_ref_agent') }}

),

validated as (

    select
        *,
        case
            -- rule 1
            when agent_id is null
                then { 'rule': 1, 'reason': 'agent_id: missing' }
        end as reject

    from source

),

final as (

    select
        agent_id,
        team_id,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'agent_id': agent_id,
            'team_id': team_id
        })::varchar end as raw_values

    from validated

)

select * from final
