-- int_teams: accepted rows of stg_ref__teams, one per key (source-extracts.md section 7):
-- the later line of the current snapshot wins.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

teams as (

    select
        team_id,
        team_name,
        city_code,
        team_type,
        site_id,
        _file,
        _file_date,
        _line
    from {{ ref('stg_ref__teams') }}
    where {{ accepted('ref_team') }}

),

latest as (

    select * from teams
    qualify row_number() over (
        partition by team_id
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.team_id,
        latest.team_name,
        latest.city_code,
        latest.team_type,
        latest.site_id,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
