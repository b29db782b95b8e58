with cities as (

    select * from {{ ref('int_cities') }}

),

final as (

    select
        city_code,
        city_name_zh,
        city_name_en
    from cities

)

select * from final
