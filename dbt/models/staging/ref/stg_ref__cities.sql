-- stg_ref__cities: every landed row of raw_ref_city, typed, with the acceptance verdict
-- (source-extracts.md section 6): reject_rule = lowest-numbered rule broken, NULL = accepted.

with

source as (

    select * from {{ source('raw', 'raw_ref_city') }}

),

validated as (

    select
        *,
        case
            -- rule 1
            when city_code is null
                then { 'rule': 1, 'reason': 'city_code: missing' }
        end as reject

    from source

),

final as (

    select
        city_code,
        city_name_zh,
        city_name_en,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'city_code': city_code,
            'city_name_zh': city_name_zh,
            'city_name_en': city_name_en
        })::varchar end as raw_values

    from validated

)

select * from final
