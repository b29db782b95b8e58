-- stg_ref__stores: every landed row of raw_ref_store, typed, with the acceptance verdict
-- (source-extracts.md section 6): reject_rule = lowest-numbered rule broken, NULL = accepted.
-- Rule 4 looks up the current (accepted, de-duplicated) reference entities.

with

source as (

    select * from {{ source('raw', 'raw_ref_store') }}

),

cities as (

    select city_code from {{ ref('int_cities') }}

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
            -- rule 4
            when city_code is null
                then { 'rule': 4, 'reason': 'city_code: missing' }
            when city_code not in (select city_code from cities)
                then { 'rule': 4, 'reason': 'city_code: unknown ' || {{ quote_value('city_code') }} }
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
