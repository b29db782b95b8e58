-- int_disputes: accepted rows of stg_billing__disputes, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows never take part, so a key whose newest version was rejected keeps
-- its newest accepted version.
-- Incremental by delivery: only the keys a new delivery touched are chosen again.
{{ incremental_by_key('billing_dispute', 'stg_billing__disputes', 'dispute_id') }}

with

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
    where reject_rule is null{{ only_touched_keys('dispute_id') }}

),

latest as (

    select * from disputes
    qualify row_number() over (
        partition by dispute_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

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
        latest._line

    from latest

)

select * from final
