-- int_districts: accepted rows of stg_ref__districts, one per key (source-extracts.md section 7):
-- the later line of the current snapshot wins.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

districts as (

    select
        district_code,
        city_code,
        district_name_zh,
        area_type,
        _file,
        _file_date,
        _line
    from {{ ref('stg_ref__districts') }}
    where {{ accepted('ref_district') }}

),

latest as (

    select * from districts
    qualify row_number() over (
        partition by district_code
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.district_code,
        latest.city_code,
        latest.district_name_zh,
        latest.area_type,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
