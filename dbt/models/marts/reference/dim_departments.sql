with departments as (

    select * from {{ ref('departments') }}

),

final as (

    select
        department_code,
        department_name_zh,
        department_name_en
    from departments

)

select * from final
