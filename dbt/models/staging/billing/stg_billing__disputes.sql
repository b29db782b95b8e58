-- stg_billing__disputes: every landed row of raw_billing_dispute, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('billing_dispute') }}

with

source as (

    select * from {{ source('raw', 'raw_billing_dispute') }}{{ only_new_deliveries('billing_dispute') }}

),

parsed as (

    select
        *,
        {{ parse_month('bill_month') }} as bill_month_parsed,
        {{ parse_decimal('amount') }} as amount_parsed,
        {{ parse_timestamp('raised_at') }} as raised_at_parsed,
        {{ parse_timestamp('resolved_at') }} as resolved_at_parsed,
        {{ parse_timestamp('updated_at') }} as updated_at_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when dispute_id is null
                then { 'rule': 1, 'reason': 'dispute_id: missing' }
            -- rule 2
            when bill_month is not null and bill_month_parsed is null
                then { 'rule': 2, 'reason': 'bill_month: not a month ' || {{ quote_value('bill_month') }} }
            when amount is not null and amount_parsed is null
                then { 'rule': 2, 'reason': 'amount: not a decimal ' || {{ quote_value('amount') }} }
            when raised_at is not null and raised_at_parsed is null
                then { 'rule': 2, 'reason': 'raised_at: not a timestamp ' || {{ quote_value('raised_at') }} }
            when resolved_at is not null and resolved_at_parsed is null
                then { 'rule': 2, 'reason': 'resolved_at: not a timestamp ' || {{ quote_value('resolved_at') }} }
            when updated_at is not null and updated_at_parsed is null
                then { 'rule': 2, 'reason': 'updated_at: not a timestamp ' || {{ quote_value('updated_at') }} }
            -- rule 3
            when outcome not in ('billing_error', 'no_error', 'withdrawn')
                then { 'rule': 3, 'reason': 'outcome: unknown value ' || {{ quote_value('outcome') }} }
            when status is null
                then { 'rule': 3, 'reason': 'status: missing' }
            when status not in ('open', 'resolved')
                then { 'rule': 3, 'reason': 'status: unknown value ' || {{ quote_value('status') }} }
            -- rule 5
            when resolved_at_parsed < raised_at_parsed
                then { 'rule': 5, 'reason': 'resolved_at before raised_at' }
            -- rule 7
            when amount_parsed < 0
                then { 'rule': 7, 'reason': 'amount: negative ' || {{ quote_value('amount') }} }
        end as reject

    from parsed

),

final as (

    select
        dispute_id,
        account_id,
        city_code,
        bill_month_parsed as bill_month,
        amount_parsed as amount,
        raised_at_parsed as raised_at,
        resolved_at_parsed as resolved_at,
        outcome,
        status,
        updated_at_parsed as updated_at,
        _file,
        _file_date,
        _line,
        {{ newest_delivery() }} as _loaded_through,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'dispute_id': dispute_id,
            'account_id': account_id,
            'city_code': city_code,
            'bill_month': bill_month,
            'amount': amount,
            'raised_at': raised_at,
            'resolved_at': resolved_at,
            'outcome': outcome,
            'status': status,
            'updated_at': updated_at
        })::varchar end as raw_values

    from validated

)

select * from final
