-- int_refunds: accepted rows of stg_billing__refunds, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('refund_id') }}

with

{{ touched_cte('billing_refund', 'stg_billing__refunds', 'refund_id') }}
refunds as (

    select
        refund_id,
        dispute_id,
        account_id,
        city_code,
        amount,
        requested_at,
        completed_at,
        status,
        updated_at,
        _file,
        _file_date,
        _line
    from {{ ref('stg_billing__refunds') }}
    where {{ accepted('billing_refund') }}{{ only_touched_keys('refund_id') }}

),

latest as (

    select * from refunds
    qualify row_number() over (
        partition by refund_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

    select
        latest.refund_id,
        latest.dispute_id,
        latest.account_id,
        latest.city_code,
        latest.amount,
        latest.requested_at,
        latest.completed_at,
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

    {{ with_withdrawn_keys('refund_id') }}

)

select * from final
