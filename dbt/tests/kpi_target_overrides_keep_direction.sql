-- An override keeps its KPI's direction (kpi_catalog): for a higher-is-better KPI the red
-- threshold is at or below the target, for a lower-is-better one at or above it; both are
-- positive, and a ratio KPI's target and threshold lie in [0, 1].

with overrides as (

    select * from {{ ref('kpi_target_overrides') }}

),

kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

checked as (

    select
        overrides.*,
        kpi_catalog.direction,
        case
            when kpi_catalog.direction = 'up' and overrides.red_threshold > overrides.target
                then 'up KPI: red_threshold ' || overrides.red_threshold
                    || ' must be <= target ' || overrides.target
            when kpi_catalog.direction = 'down' and overrides.red_threshold < overrides.target
                then 'down KPI: red_threshold ' || overrides.red_threshold
                    || ' must be >= target ' || overrides.target
            when overrides.target < 0 or overrides.red_threshold < 0
                then 'target and red_threshold must not be negative'
            when kpi_catalog.unit = 'ratio' and (overrides.target > 1 or overrides.red_threshold > 1)
                then 'ratio KPI: target and red_threshold must lie in [0, 1]'
        end as problem
    from overrides
    inner join kpi_catalog
        on overrides.kpi_code = kpi_catalog.kpi_code

),

final as (

    select problem, kpi_code, scope_type, scope_value, scope_city, valid_from, target, red_threshold
    from checked
    where problem is not null

)

select * from final
