-- The KPI catalog (seed, the spec's catalog as it is) with what the warehouse knows of each
-- KPI besides (seed kpi_attributes) and its owner department: one row per KPI, for every
-- consumer (the board, the incremental KPI windows, the override checks).

with kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

kpi_attributes as (

    select * from {{ ref('kpi_attributes') }}

),

departments as (

    select * from {{ ref('departments') }}

),

complete_through as (

    select * from {{ ref('int_kpi_complete_through') }}

),

final as (

    select
        kpi_catalog.kpi_code,
        kpi_catalog.name_en,
        kpi_catalog.name_zh,
        kpi_catalog.source_system,
        kpi_catalog.grain,
        kpi_catalog.direction,
        kpi_catalog.unit,
        kpi_catalog.scale,
        kpi_catalog.target,
        kpi_catalog.red_threshold,
        kpi_catalog.owner_department,
        kpi_catalog.min_volume,
        kpi_attributes.records_from,
        coalesce(kpi_attributes.drill_levels, '') as drill_levels,
        kpi_attributes.target_scope,
        departments.department_name_zh as owner_department_name_zh,
        departments.department_name_en as owner_department_name_en,
        -- the last day detection judges as of T (K04's lag included), for the board's
        -- reasons why a red value opened no issue
        complete_through.complete_through,
        complete_through.as_of_at
    from kpi_catalog
    left join kpi_attributes
        on kpi_catalog.kpi_code = kpi_attributes.kpi_code
    left join departments
        on kpi_catalog.owner_department = departments.department_code
    left join complete_through
        on kpi_catalog.kpi_code = complete_through.kpi_code

)

select * from final
