-- stg_billing__refunds: every landed row of raw_billing_refund, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('billing_refund') }}

with

source as (

    select * from {{ source('raw', 'raw_billing_refund') }}{{ only_new_deliveries('billing_refund') }}

),

parsed as (

    select
        *,
        {{ parse_decimal('amount') }} as amount_parsed,
        {{ parse_timestamp('requested_at') }} as requested_at_parsed,
        {{ parse_timestamp('completed_at') }} as completed_at_parsed,
        {{ parse_timestamp('updated_at') }} as updated_at_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when refund_id is null
                then { 'rule': 1, 'reason': 'refund_id: missing' }
            -- rule 2
            when amount is not null and amount_parsed is null
                then { 'rule': 2, 'reason': 'amount: not a decimal ' || {{ quote_value('amount') }} }
            when requested_at is not null and requested_at_parsed is null
                then { 'rule': 2, 'reason': 'requested_at: not a timestamp ' || {{ quote_value('requested_at') }} }
            when completed_at is not null and completed_at_parsed is null
                then { 'rule': 2, 'reason': 'completed_at: not a timestamp ' || {{ quote_value('completed_at') }} }
            when updated_at is not null and updated_at_parsed is null
                then { 'rule': 2, 'reason': 'updated_at: not a timestamp ' || {{ quote_value('updated_at') }} }
            -- rule 3
            when status is null
                then { 'rule': 3, 'reason': 'status: missing' }
            when status not in ('pending', 'completed', 'rejected')
                then { 'rule': 3, 'reason': 'status: unknown value ' || {{ quote_value('status') }} }
            -- rule 5
            when completed_at_parsed < requested_at_parsed
                then { 'rule': 5, 'reason': 'completed_at before requested_at' }
            -- rule 6
            when status = 'completed' and completed_at_parsed is null
                then { 'rule': 6, 'reason': 'status completed without completed_at' }
            -- rule 7
            when amount_parsed < 0
                then { 'rule': 7, 'reason': 'amount: negative ' || {{ quote_value('amount') }} }
        end as reject

    from parsed

),

final as (

    select
        refund_id,
        dispute_id,
        account_id,
        city_code,
        amount_parsed as amount,
        requested_at_parsed as requested_at,
        completed_at_parsed as completed_at,
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
            'refund_id': refund_id,
            'dispute_id': dispute_id,
            'account_id': account_id,
            'city_code': city_code,
            'amount': amount,
            'requested_at': requested_at,
            'completed_at': completed_at,
            'status': status,
            'updated_at': updated_at
        })::varchar end as raw_values

    from validated

)

select * from final
