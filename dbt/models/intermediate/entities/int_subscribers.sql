-- int_subscribers: accepted rows of stg_crm__subscribers, one per key (source-extracts.md section 7):
-- the file with the later business date (monthly: later month), then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

subscribers as (

    select
        month,
        city_code,
        product,
        active_subscribers,
        _file,
        _file_date,
        _line
    from {{ ref('stg_crm__subscribers') }}
    where {{ accepted('crm_subscriber') }}

),

latest as (

    select * from subscribers
    qualify row_number() over (
        partition by month, city_code, product
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.month,
        latest.city_code,
        latest.product,
        latest.active_subscribers,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
