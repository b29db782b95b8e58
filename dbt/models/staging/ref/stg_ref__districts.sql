-- stg_ref__districts: every landed row of raw_ref_district, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.

with

source as (

    select * from {{ source('raw', 'raw_ref_district') }}

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
