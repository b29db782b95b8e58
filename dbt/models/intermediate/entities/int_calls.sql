-- int_calls: accepted rows of stg_cc__calls, one per key (source-extracts.md section 7):
-- the file with the later business date (monthly: later month), then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('call_id') }}

with

{{ touched_cte('cc_call', 'stg_cc__calls', 'call_id') }}
calls as (

    select
        call_id,
        caller_id,
        city_code,
        arrived_at,
        ivr_exit_at,
        queue_entered_at,
        answered_at,
        ended_at,
        skill_group,
        agent_id,
        transferred,
        _file,
        _file_date,
        _line
    from {{ ref('stg_cc__calls') }}
    where {{ accepted('cc_call') }}{{ only_touched_keys('call_id') }}

),

agents as (

    select agent_id, team_id from {{ ref('int_agents') }}

),

teams as (

    select team_id, site_id from {{ ref('int_teams') }}

),

latest as (

    select * from calls
    qualify row_number() over (
        partition by call_id
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

    select
        latest.call_id,
        latest.caller_id,
        latest.city_code,
        latest.arrived_at,
        latest.ivr_exit_at,
        latest.queue_entered_at,
        latest.answered_at,
        latest.ended_at,
        latest.skill_group,
        latest.agent_id,
        latest.transferred,
        agents.team_id,
        teams.site_id,
        latest._file,
        latest._file_date,
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest
    left join agents on latest.agent_id = agents.agent_id
    left join teams on agents.team_id = teams.team_id

),

final as (

    {{ with_withdrawn_keys('call_id') }}

)

select * from final
