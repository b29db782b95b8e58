-- The deliveries in force, one row per file name (a re-delivery replaces the row; files
-- rejected as a whole are not here): the data health page's freshness per entity.

with files as (

    select * from {{ source('raw', 'raw_files') }}

),

final as (

    select
        file_name,
        entity,
        kind,
        business_date,
        loaded_at
    from files

)

select * from final
