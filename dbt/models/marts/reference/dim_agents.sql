with agents as (

    select * from {{ ref('int_agents') }}

),

final as (

    select
        agent_id,
        team_id
    from agents

)

select * from final
