with stores as (

    select * from {{ ref('int_stores') }}

),

final as (

    select
        store_id,
        store_name,
        city_code,
        district_code,
        store_level
    from stores

)

select * from final
