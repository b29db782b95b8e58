-- stg_ref__stores: every landed row of raw_ref_store, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.

with

source as (

    select * from {{ source('raw', 'raw_ref_store') }}

),

validated as (

    select
        *,
        case
            -- rule 1
            when store_id is null
                then { 'rule': 1, 'reason': 'store_id: missing' }
            -- rule 3
            when store_level is null
                then { 'rule': 3, 'reason': 'store_level: missing' }
            when store_level not in ('flagship', 'standard', 'community')
                then { 'rule': 3, 'reason': 'store_level: unknown value ' || {{ quote_value('store_level') }} }
        end as reject

    from source

),

final as (

    select
        store_id,
        store_name,
        city_code,
        district_code,
        store_level,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'store_id': store_id,
            'store_name': store_name,
            'city_code': city_code,
            'district_code': district_code,
            'store_level': store_level
        })::varchar end as raw_values

    from validated

)

select * from final
