-- int_bill_runs: accepted rows of stg_billing__bill_runs, one per key (source-extracts.md section 7):
-- the file with the later business date (monthly: later month), then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.

with

bill_runs as (

    select
        bill_month,
        city_code,
        bills_issued,
        _file,
        _file_date,
        _line
    from {{ ref('stg_billing__bill_runs') }}
    where {{ accepted('billing_bill_run') }}

),

latest as (

    select * from bill_runs
    qualify row_number() over (
        partition by bill_month, city_code
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.bill_month,
        latest.city_code,
        latest.bills_issued,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
