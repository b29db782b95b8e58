-- stg_ref__teams: every landed row of raw_ref_team, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.

with

source as (

    select * from {{ source('raw', 'raw_ref_team') }}

),

validated as (

    select
        *,
        case
            -- rule 1
            when team_id is null
                then { 'rule': 1, 'reason': 'team_id: missing' }
            -- rule 3
            when team_type is null
                then { 'rule': 3, 'reason': 'team_type: missing' }
            when team_type not in ('field', 'hotline')
                then { 'rule': 3, 'reason': 'team_type: unknown value ' || {{ quote_value('team_type') }} }
        end as reject

    from source

),

final as (

    select
        team_id,
        team_name,
        city_code,
        team_type,
        site_id,
        _file,
        _file_date,
        _line,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'team_id': team_id,
            'team_name': team_name,
            'city_code': city_code,
            'team_type': team_type,
            'site_id': site_id
        })::varchar end as raw_values

    from validated

)

select * from final
