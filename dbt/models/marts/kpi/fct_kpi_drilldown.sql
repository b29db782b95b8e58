-- KPI facts summed per day, city and drill-down dimensions (store, district, team, site,
-- agent, skill group; NULL where a KPI has no such dimension). Daily KPIs: only days
-- before T (as_of_date). Month KPIs (K06, K09) keep every row: numerator rows on their
-- day, denominator rows on the first day of their month (counts_as_row).
-- Each row also carries its own scope target (shown on the board's drill-down): the finest scope its KPI allows
-- that the row has (the store's level for K01, the district's area type for K12/K13, the
-- skill group for K02/K03; else its city), the version in force on activity_date
-- (int_kpi_scope_targets), and its status against it.
-- Incremental by day window: the call, queue-ticket and speed-test KPIs' rows of the days
-- before their window are kept, everything else is computed again (macros/kpi/kpi_windows.sql,
-- docs/incremental.md). Each row says what it was built from: the newest delivery
-- (_loaded_through) and the T (_as_of_at).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}{{ delete_kpi_windows() }}{% endif %}",
) }}
-- An incremental build computes its records itself (kpi_records, only its window's) and
-- reads these to choose the window (kpi_windows):
-- depends_on: {{ ref('int_queue_tickets') }}, {{ ref('int_calls') }}, {{ ref('int_surveys') }},
-- {{ ref('int_complaints') }}, {{ ref('int_subscribers') }}, {{ ref('int_disputes') }},
-- {{ ref('int_bill_runs') }}, {{ ref('int_refunds') }}, {{ ref('int_work_orders') }},
-- {{ ref('int_speed_tests') }}, {{ ref('stg_cc__calls') }}, {{ ref('stg_crm__queue_tickets') }},
-- {{ ref('stg_net__speed_tests') }}, {{ source('raw', 'raw_deliveries') }}

with records as (

{%- if is_incremental() %}
    {{ kpi_records(since=kpi_windows()) }}
{%- else %}
    select * from {{ ref('int_kpi_records') }}
{%- endif %}

),

as_of as (

    select as_of_at, as_of_date from {{ ref('int_as_of') }}

),

kpi_catalog as (

    select kpi_code, grain, direction, scale, min_volume from {{ ref('kpi_catalog') }}

),

kpi_attributes as (

    select kpi_code, target_scope from {{ ref('kpi_attributes') }}

),

stores as (

    select store_id, store_level from {{ ref('int_stores') }}

),

districts as (

    select district_code, area_type from {{ ref('int_districts') }}

),

scope_targets as (

    select * from {{ ref('int_kpi_scope_targets') }}

),

reported_records as (

    select records.*
    from records
    cross join as_of
    left join kpi_catalog
        on records.kpi_code = kpi_catalog.kpi_code
    -- a code missing from the catalog is treated as daily (and fails the relationships test)
    where coalesce(kpi_catalog.grain, 'day') <> 'day'
        or records.activity_date < as_of.as_of_date

),

summed as (

    select
        kpi_code,
        activity_date,
        city_code,
        store_id,
        district_code,
        team_id,
        site_id,
        agent_id,
        skill_group,
        cast(sum(numerator) as bigint) as numerator,
        cast(sum(denominator) as bigint) as denominator,
        bool_or(counts_as_row) as counts_as_row,
        cast(count(*) as bigint) as record_count
    from reported_records
    group by
        kpi_code,
        activity_date,
        city_code,
        store_id,
        district_code,
        team_id,
        site_id,
        agent_id,
        skill_group

),

scoped as (

    select
        summed.*,
        case
            when kpi_attributes.target_scope = 'store_level'
                and stores.store_level is not null then 'store_level'
            when kpi_attributes.target_scope = 'area_type'
                and districts.area_type is not null then 'area_type'
            when kpi_attributes.target_scope = 'skill_group'
                and summed.skill_group is not null then 'skill_group'
            else 'city'
        end as scope_type,
        stores.store_level,
        districts.area_type
    from summed
    left join kpi_attributes
        on summed.kpi_code = kpi_attributes.kpi_code
    left join stores
        on summed.store_id = stores.store_id
    left join districts
        on summed.district_code = districts.district_code

),

final as (

    select
        scoped.kpi_code,
        scoped.activity_date,
        scoped.city_code,
        scoped.store_id,
        scoped.district_code,
        scoped.team_id,
        scoped.site_id,
        scoped.agent_id,
        scoped.skill_group,
        scoped.numerator,
        scoped.denominator,
        scoped.counts_as_row,
        scoped.record_count,
        scoped.scope_type,
        scope_targets.scope_value,
        scope_targets.target as scope_target,
        scope_targets.red_threshold as scope_red_threshold,
        {{ kpi_status(
            'scoped.numerator', 'scoped.denominator', 'kpi_catalog.scale',
            'scope_targets.target', 'scope_targets.red_threshold', 'kpi_catalog.direction'
        ) }} as scope_status,
        scope_targets.target_source as scope_target_source,
        kpi_catalog.min_volume,
        scoped.denominator < kpi_catalog.min_volume as low_volume,
        {{ newest_delivery() }} as _loaded_through,
        (select as_of_at from as_of) as _as_of_at
    from scoped
    left join kpi_catalog
        on scoped.kpi_code = kpi_catalog.kpi_code
    left join scope_targets
        on scoped.kpi_code = scope_targets.kpi_code
        and scoped.city_code = scope_targets.region_code
        and scoped.scope_type = scope_targets.scope_type
        and case scoped.scope_type
                when 'store_level' then scoped.store_level
                when 'area_type' then scoped.area_type
                when 'skill_group' then scoped.skill_group
                else scoped.city_code
            end = scope_targets.scope_value
        and scoped.activity_date >= scope_targets.valid_from
        and scoped.activity_date < scope_targets.valid_to

)

select * from final
