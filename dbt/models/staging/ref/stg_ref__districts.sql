-- stg_ref__districts: every landed row of raw_ref_district, typed, with the acceptance verdict
-- (source-extracts.md section 6): reject_rule = lowest-numbered rule broken, NULL = accepted.
-- Rule 4 looks up the current (accepted, de-duplicated) reference entities.

with

source as (

    select * from {{ source('raw', 'raw_ref_district') }}

),

cities as (

    select city_code from {{ ref('int_cities') }}

),

validated as (

    select
        *,
        case
            -- rule 1
            when district_code is null
                then { 'rule': 1, 'reason': 'district_code: missing' }
            -- rule 3
            when area_type is null
                then { 'rule': 3, 'reason': 'area_type: missing' }
            when area_type not in ('urban', 'rural')
                then { 'rule': 3, 'reason': 'area_type: unknown value ' || {{ quote_value('area_type') }} }
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
        district_code,
        city_code,
        district_name_zh,
        area_type,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'district_code': district_code,
            'city_code': city_code,
            'district_name_zh': district_name_zh,
            'area_type': area_type
        })::varchar end as raw_values

    from validated

)

select * from final
