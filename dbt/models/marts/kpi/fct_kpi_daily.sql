-- Daily KPIs per day and city (days before T), summed from the drill-down: the drill-down
-- rows of a (kpi, day, city) sum back exactly to this row.

with drilldown as (

    select * from {{ ref('fct_kpi_drilldown') }}

),

kpi_catalog as (

    select kpi_code, grain from {{ ref('kpi_catalog') }}

),

final as (

    select
        drilldown.kpi_code,
        drilldown.activity_date,
        drilldown.city_code,
        cast(sum(drilldown.numerator) as bigint) as numerator,
        cast(sum(drilldown.denominator) as bigint) as denominator
    from drilldown
    inner join kpi_catalog
        on drilldown.kpi_code = kpi_catalog.kpi_code
    where kpi_catalog.grain = 'day'
    group by
        drilldown.kpi_code,
        drilldown.activity_date,
        drilldown.city_code
    having bool_or(drilldown.counts_as_row)

)

select * from final
