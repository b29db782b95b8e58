-- The group report upload rows (kpi-catalog.md "Group report interface"): day and month
-- rows of fct_kpi_values, period_start as 'YYYY-MM-DD' text, value = the exact decimal text
-- (NULL when there is no value). sort_key = the file order: plain byte order of
-- period_type, period_start, kpi_code, region_code (the export writes ORDER BY sort_key).

with kpi_values as (

    select * from {{ ref('fct_kpi_values') }}

),

snapshot_rows as (

    select
        period_type,
        strftime(period_start, '%Y-%m-%d') as period_start,
        kpi_code,
        region_code,
        numerator,
        denominator,
        value_text as value,
        status
    from kpi_values
    where period_type in ('day', 'month')

),

final as (

    select
        period_type,
        period_start,
        kpi_code,
        region_code,
        numerator,
        denominator,
        value,
        status,
        -- default DuckDB varchar ordering is binary (byte order); every key is ASCII
        cast(row_number() over (
            order by period_type, period_start, kpi_code, region_code
        ) as bigint) as sort_key
    from snapshot_rows

)

select * from final
