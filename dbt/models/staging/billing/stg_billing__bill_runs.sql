-- stg_billing__bill_runs: every landed row of raw_billing_bill_run, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.

with

source as (

    select * from {{ source('raw', 'raw_billing_bill_run') }}

),

parsed as (

    select
        *,
        {{ parse_month('bill_month') }} as bill_month_parsed,
        {{ parse_integer('bills_issued') }} as bills_issued_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when bill_month is null
                then { 'rule': 1, 'reason': 'bill_month: missing' }
            when city_code is null
                then { 'rule': 1, 'reason': 'city_code: missing' }
            -- rule 2
            when bill_month is not null and bill_month_parsed is null
                then { 'rule': 2, 'reason': 'bill_month: not a month ' || {{ quote_value('bill_month') }} }
            when bills_issued is not null and bills_issued_parsed is null
                then { 'rule': 2, 'reason': 'bills_issued: not an integer ' || {{ quote_value('bills_issued') }} }
            -- rule 7
            when bills_issued_parsed < 0
                then { 'rule': 7, 'reason': 'bills_issued: negative ' || {{ quote_value('bills_issued') }} }
        end as reject

    from parsed

),

final as (

    select
        bill_month_parsed as bill_month,
        city_code,
        bills_issued_parsed as bills_issued,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'bill_month': bill_month,
            'city_code': city_code,
            'bills_issued': bills_issued
        })::varchar end as raw_values

    from validated

)

select * from final
