-- The as-of time T of this run: midnight at the end of the latest business date for which a
-- daily extract is in force (header-only files count; rejected files are not in raw_files;
-- monthly and reference files do not move T). One row, or zero rows when no daily file.

with raw_files as (

    select * from {{ source('raw', 'raw_files') }}

),

latest_daily as (

    select max(business_date) as latest_business_date
    from raw_files
    where kind = 'daily'
    having max(business_date) is not null

),

final as (

    select
        cast(latest_business_date + interval 1 day as timestamp) as as_of_at,
        cast(latest_business_date + interval 1 day as date) as as_of_date,
        cast(latest_business_date as date) as report_date
    from latest_daily

)

select * from final
