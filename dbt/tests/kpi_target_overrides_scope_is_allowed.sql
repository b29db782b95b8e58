-- Every row of the seed kpi_target_overrides names a scope its KPI may be overridden for
-- (city for any KPI; besides it kpi_attributes.target_scope: store_level only K01;
-- area_type only K12, K13; skill_group only K02, K03) with a known value, and scope_city
-- only on a finer scope. One failing row per bad override, with the reason in `problem`.

with overrides as (

    select * from {{ ref('kpi_target_overrides') }}

),

allowed_scopes as (

    select * from {{ kpi_target_scope_rows() }}

),

allowed_types as (

    select distinct scope_type, kpi_code from allowed_scopes

),

checked as (

    select
        overrides.*,
        case
            when overrides.scope_type = 'city' and overrides.scope_value = 'JS'
                then 'the province JS keeps the catalog target: no override'
            when overrides.scope_type = 'city' and not regexp_full_match(overrides.scope_value, '[A-Z]{2,3}')
                then 'city scope_value must be a city code, got ' || overrides.scope_value
            when overrides.scope_type = 'city' and overrides.scope_city is not null
                then 'a city override takes no scope_city'
            when overrides.scope_type <> 'city' and not exists (
                select 1 from allowed_types
                where allowed_types.scope_type = overrides.scope_type
                    and allowed_types.kpi_code = overrides.kpi_code
            )
                then 'scope_type ' || overrides.scope_type || ' is not allowed for '
                    || overrides.kpi_code
                    || ' (store_level: K01; area_type: K12, K13; skill_group: K02, K03)'
            when overrides.scope_type <> 'city' and not exists (
                select 1 from allowed_scopes
                where allowed_scopes.scope_type = overrides.scope_type
                    and allowed_scopes.kpi_code = overrides.kpi_code
                    and allowed_scopes.scope_value = overrides.scope_value
            )
                then 'unknown ' || overrides.scope_type || ' value ' || overrides.scope_value
            when overrides.scope_city = 'JS'
                then 'scope_city must be a city, not the province'
            when overrides.scope_city is not null
                and not regexp_full_match(overrides.scope_city, '[A-Z]{2,3}')
                then 'scope_city must be a city code, got ' || overrides.scope_city
        end as problem
    from overrides

),

final as (

    select problem, kpi_code, scope_type, scope_value, scope_city, valid_from
    from checked
    where problem is not null

)

select * from final
