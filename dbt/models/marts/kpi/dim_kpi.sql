-- The KPI catalog (seed, the one source of truth) with its owner department, for the board.

with kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

departments as (

    select * from {{ ref('departments') }}

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
        departments.department_name_zh as owner_department_name_zh,
        departments.department_name_en as owner_department_name_en
    from kpi_catalog
    left join departments
        on kpi_catalog.owner_department = departments.department_code

)

select * from final
