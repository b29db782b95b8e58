-- int_disputes: accepted rows of stg_billing__disputes, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('dispute_id') }}

with

{{ touched_cte('billing_dispute', 'stg_billing__disputes', 'dispute_id') }}
disputes as (

    select
        dispute_id,
        account_id,
        city_code,
        bill_month,
        amount,
        raised_at,
        resolved_at,
        outcome,
        status,
        updated_at,
        _file,
        _file_date,
        _line
    from {{ ref('stg_billing__disputes') }}
    where {{ accepted('billing_dispute') }}{{ only_touched_keys('dispute_id') }}

),

latest as (

    select * from disputes
    qualify row_number() over (
        partition by dispute_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

    select
        latest.dispute_id,
        latest.account_id,
        latest.city_code,
        latest.bill_month,
        latest.amount,
        latest.raised_at,
        latest.resolved_at,
        latest.outcome,
        latest.status,
        latest.updated_at,
        latest._file,
        latest._file_date,
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest

),

final as (

    {{ with_withdrawn_keys('dispute_id') }}

)

select * from final
