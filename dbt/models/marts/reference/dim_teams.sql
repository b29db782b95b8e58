with teams as (

    select * from {{ ref('int_teams') }}

),

final as (

    select
        team_id,
        team_name,
        city_code,
        team_type,
        site_id
    from teams

)

select * from final
