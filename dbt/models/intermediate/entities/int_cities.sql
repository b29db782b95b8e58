-- int_cities: accepted rows of stg_ref__cities, one per key (source-extracts.md section 7):
-- the later line of the current snapshot wins.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

cities as (

    select
        city_code,
        city_name_zh,
        city_name_en,
        _file,
        _file_date,
        _line
    from {{ ref('stg_ref__cities') }}
    where {{ accepted('ref_city') }}

),

latest as (

    select * from cities
    qualify row_number() over (
        partition by city_code
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.city_code,
        latest.city_name_zh,
        latest.city_name_en,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
