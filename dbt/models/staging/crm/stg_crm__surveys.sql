-- stg_crm__surveys: every landed row of raw_crm_survey, typed, with the acceptance verdict
-- (source-extracts.md section 6) of the rules a row can break on its own (1, 2, 3, 5, 6, 7):
-- reject_rule = the lowest-numbered one broken, NULL = none. Rule 4 (the reference data) is
-- judged where the entity is chosen (int_) and in fct_rejected_rows.
-- Incremental by delivery: only the files delivered since the last build are parsed.
{{ incremental_by_delivery('crm_survey') }}

with

source as (

    select * from {{ source('raw', 'raw_crm_survey') }}{{ only_new_deliveries('crm_survey') }}

),

parsed as (

    select
        *,
        {{ parse_timestamp('sent_at') }} as sent_at_parsed,
        {{ parse_timestamp('responded_at') }} as responded_at_parsed,
        {{ parse_integer('score') }} as score_parsed,
        {{ parse_timestamp('updated_at') }} as updated_at_parsed

    from source

),

validated as (

    select
        *,
        case
            -- rule 1
            when survey_id is null
                then { 'rule': 1, 'reason': 'survey_id: missing' }
            -- rule 2
            when sent_at is not null and sent_at_parsed is null
                then { 'rule': 2, 'reason': 'sent_at: not a timestamp ' || {{ quote_value('sent_at') }} }
            when responded_at is not null and responded_at_parsed is null
                then { 'rule': 2, 'reason': 'responded_at: not a timestamp ' || {{ quote_value('responded_at') }} }
            when score is not null and score_parsed is null
                then { 'rule': 2, 'reason': 'score: not an integer ' || {{ quote_value('score') }} }
            when updated_at is not null and updated_at_parsed is null
                then { 'rule': 2, 'reason': 'updated_at: not a timestamp ' || {{ quote_value('updated_at') }} }
            -- rule 3
            when contact_type is null
                then { 'rule': 3, 'reason': 'contact_type: missing' }
            when contact_type not in ('hotline', 'store', 'install', 'repair', 'complaint')
                then { 'rule': 3, 'reason': 'contact_type: unknown value ' || {{ quote_value('contact_type') }} }
            -- rule 5
            when responded_at_parsed < sent_at_parsed
                then { 'rule': 5, 'reason': 'responded_at before sent_at' }
            -- rule 7
            when score_parsed not between 1 and 5
                then { 'rule': 7, 'reason': 'score: not in 1..5 ' || {{ quote_value('score') }} }
            when score_parsed is not null and responded_at_parsed is null
                then { 'rule': 7, 'reason': 'score present without responded_at' }
            when score_parsed is null and responded_at_parsed is not null
                then { 'rule': 7, 'reason': 'responded_at present without score' }
        end as reject

    from parsed

),

final as (

    select
        survey_id,
        contact_type,
        contact_id,
        city_code,
        sent_at_parsed as sent_at,
        responded_at_parsed as responded_at,
        score_parsed as score,
        updated_at_parsed as updated_at,
        _file,
        _file_date,
        _line,
        {{ newest_delivery() }} as _loaded_through,
        reject.rule as reject_rule,
        reject.reason as reject_reason,
        -- the raw text is kept for rejected rows only (what fct_rejected_rows reports)
        case when reject.rule is not null then to_json({
            'survey_id': survey_id,
            'contact_type': contact_type,
            'contact_id': contact_id,
            'city_code': city_code,
            'sent_at': sent_at,
            'responded_at': responded_at,
            'score': score,
            'updated_at': updated_at
        })::varchar end as raw_values

    from validated

)

select * from final
