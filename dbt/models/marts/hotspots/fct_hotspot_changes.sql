-- Which launched change a hotspot may come from: a hotspot whose run starts on the launch
-- day of a launched change or within `hotspot_change_window_days` (14) after it, when the
-- change's department owns the hotspot's category (seed hotspot_owners) or the change may
-- affect a KPI the category's contacts feed (seed hotspot_kpis), and the change's scope
-- reaches the hotspot's region (a scope region equal to it, a JS scope, or a JS hotspot:
-- the register's scope says where the change acts). One row per hotspot run x change.
-- Reads the change register the detection step copies into the warehouse: built by the
-- second dbt invocation (tag after_detection), as the post-evaluation is.
{%- set window_days = var('hotspot_change_window_days') %}

with hotspots as (

    select distinct source, category, channel, region_code, started_on, owner_department
    from {{ ref('fct_hotspots') }}

),

changes as (

    select change_id, title, owner_department, launched_on
    from {{ ref('stg_remediation__changes') }}
    where state = 'launched' and launched_on is not null

),

change_scopes as (

    select change_id, kpi_code, region_code from {{ ref('stg_remediation__change_scopes') }}

),

related_kpis as (

    select source, category, kpi_code from {{ ref('hotspot_kpis') }}

),

candidates as (

    select
        hotspots.source,
        hotspots.category,
        hotspots.channel,
        hotspots.region_code,
        hotspots.started_on,
        changes.change_id,
        changes.title,
        changes.owner_department as change_department,
        changes.launched_on,
        bool_or(hotspots.owner_department = changes.owner_department) as department_matches,
        bool_or(related_kpis.kpi_code is not null) as kpi_matches
    from hotspots
    inner join changes
        on hotspots.started_on between changes.launched_on
                                   and changes.launched_on + {{ window_days }}
    inner join change_scopes
        on change_scopes.change_id = changes.change_id
        and (change_scopes.region_code = hotspots.region_code
             or change_scopes.region_code = 'JS' or hotspots.region_code = 'JS')
    left join related_kpis
        on related_kpis.source = hotspots.source
        and related_kpis.category = hotspots.category
        and related_kpis.kpi_code = change_scopes.kpi_code
    group by all

),

final as (

    select
        source,
        category,
        channel,
        region_code,
        started_on,
        change_id,
        title,
        change_department,
        launched_on,
        started_on - launched_on as days_after_launch,
        case
            when department_matches and kpi_matches then 'department_and_kpi'
            when department_matches then 'department'
            else 'kpi'
        end as matched_by
    from candidates
    where department_matches or kpi_matches

)

select * from final
