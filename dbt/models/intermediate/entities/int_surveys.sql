-- int_surveys: accepted rows of stg_crm__surveys, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows never take part, so a key whose newest version was rejected keeps
-- its newest accepted version.
-- Incremental by delivery: only the keys a new delivery touched are chosen again.
{{ incremental_by_key('crm_survey', 'stg_crm__surveys', 'survey_id') }}

with

surveies as (

    select
        survey_id,
        contact_type,
        contact_id,
        city_code,
        sent_at,
        responded_at,
        score,
        updated_at,
        _file,
        _file_date,
        _line
    from {{ ref('stg_crm__surveys') }}
    where reject_rule is null{{ only_touched_keys('survey_id') }}

),

latest as (

    select * from surveies
    qualify row_number() over (
        partition by survey_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.survey_id,
        latest.contact_type,
        latest.contact_id,
        latest.city_code,
        latest.sent_at,
        latest.responded_at,
        latest.score,
        latest.updated_at,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
