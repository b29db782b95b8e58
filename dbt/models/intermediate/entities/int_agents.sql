-- int_agents: accepted rows of stg_ref__agents, one per key (source-extracts.md section 7):
-- the later line of the current snapshot wins.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

agents as (

    select
        agent_id,
        team_id,
        _file,
        _file_date,
        _line
    from {{ ref('stg_ref__agents') }}
    where {{ accepted('ref_agent') }}

),

latest as (

    select * from agents
    qualify row_number() over (
        partition by agent_id
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.agent_id,
        latest.team_id,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
