-- stg_crm__subscribers: every landed row of raw_crm_subscriber, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.

with

source as (

    select * from {{ source('raw', 'raw_crm_subscriber') }}

),

parsed as (

    select
        *,
        {{ parse_month('month') }} as month_parsed,
        {{ parse_integer('active_subscribers') }} as active_subscribers_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when month is null
                then { 'rule': 1, 'reason': 'month: missing' }
            when city_code is null
                then { 'rule': 1, 'reason': 'city_code: missing' }
            when product is null
                then { 'rule': 1, 'reason': 'product: missing' }
            -- rule 2
            when month is not null and month_parsed is null
                then { 'rule': 2, 'reason': 'month: not a month ' || {{ quote_value('month') }} }
            when active_subscribers is not null and active_subscribers_parsed is null
                then { 'rule': 2, 'reason': 'active_subscribers: not an integer ' || {{ quote_value('active_subscribers') }} }
            -- rule 3
            when product is null
                then { 'rule': 3, 'reason': 'product: missing' }
            when product not in ('mobile', 'broadband', 'fixed')
                then { 'rule': 3, 'reason': 'product: unknown value ' || {{ quote_value('product') }} }
            -- rule 7
            when active_subscribers_parsed < 0
                then { 'rule': 7, 'reason': 'active_subscribers: negative ' || {{ quote_value('active_subscribers') }} }
        end as reject

    from parsed

),

final as (

    select
        month_parsed as month,
        city_code,
        product,
        active_subscribers_parsed as active_subscribers,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'month': month,
            'city_code': city_code,
            'product': product,
            'active_subscribers': active_subscribers
        })::varchar end as raw_values

    from validated

)

select * from final
