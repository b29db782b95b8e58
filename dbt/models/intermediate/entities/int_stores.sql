-- int_stores: accepted rows of stg_ref__stores, one per key (source-extracts.md section 7):
-- the later line of the current snapshot wins.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

stores as (

    select
        store_id,
        store_name,
        city_code,
        district_code,
        store_level,
        _file,
        _file_date,
        _line
    from {{ ref('stg_ref__stores') }}
    where {{ accepted('ref_store') }}

),

latest as (

    select * from stores
    qualify row_number() over (
        partition by store_id
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.store_id,
        latest.store_name,
        latest.city_code,
        latest.district_code,
        latest.store_level,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
