-- The hotspot seeds agree with each other and with the spec's enums: every complaint
-- category and call skill group (source-extracts.md section 4) has exactly one owner row,
-- no owner row names anything else, and every related-KPI row names an owned category.
-- A failing row says what is wrong in `problem`.

with owners as (

    select source, category from {{ ref('hotspot_owners') }}

),

related as (

    select distinct source, category from {{ ref('hotspot_kpis') }}

),

spec as (

    select 'complaint' as source, unnest({{ hotspot_complaint_categories() }}) as category
    union all
    select 'call' as source, unnest({{ hotspot_skill_groups() }}) as category

),

final as (

    select source, category, 'no owner department for this spec category' as problem
    from spec
    anti join owners using (source, category)
    union all
    select source, category, 'not a category of the spec' as problem
    from owners
    anti join spec using (source, category)
    union all
    select source, category, 'related KPIs of a category without an owner row' as problem
    from related
    anti join owners using (source, category)

)

select * from final
