with districts as (

    select * from {{ ref('int_districts') }}

),

final as (

    select
        district_code,
        city_code,
        district_name_zh,
        area_type
    from districts

)

select * from final
