-- KPI facts summed per day, city and drill-down dimensions (store, district, team, site,
-- agent, skill group; NULL where a KPI has no such dimension). Daily KPIs: only days
-- before T (as_of_date). Month KPIs (K06, K09) keep every row: numerator rows on their
-- day, denominator rows on the first day of their month (counts_as_row).

with records as (

    select * from {{ ref('int_kpi_records') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of') }}

),

kpi_catalog as (

    select kpi_code, grain from {{ ref('kpi_catalog') }}

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

final as (

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

)

select * from final
