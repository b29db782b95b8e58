-- int_surveys: accepted rows of stg_crm__surveys, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('survey_id') }}

with

{{ touched_cte('crm_survey', 'stg_crm__surveys', 'survey_id') }}
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
    where {{ accepted('crm_survey') }}{{ only_touched_keys('survey_id') }}

),

latest as (

    select * from surveies
    qualify row_number() over (
        partition by survey_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

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
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest

),

final as (

    {{ with_withdrawn_keys('survey_id') }}

)

select * from final
