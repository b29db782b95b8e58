-- int_complaints: accepted rows of stg_crm__complaints, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('complaint_id') }}

with

{{ touched_cte('crm_complaint', 'stg_crm__complaints', 'complaint_id') }}
complaints as (

    select
        complaint_id,
        customer_id,
        city_code,
        channel,
        category,
        severity,
        summary,
        created_at,
        closed_at,
        status,
        updated_at,
        _file,
        _file_date,
        _line
    from {{ ref('stg_crm__complaints') }}
    where {{ accepted('crm_complaint') }}{{ only_touched_keys('complaint_id') }}

),

latest as (

    select * from complaints
    qualify row_number() over (
        partition by complaint_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

    select
        latest.complaint_id,
        latest.customer_id,
        latest.city_code,
        latest.channel,
        latest.category,
        latest.severity,
        latest.summary,
        latest.created_at,
        latest.closed_at,
        latest.status,
        latest.updated_at,
        latest._file,
        latest._file_date,
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest

),

final as (

    {{ with_withdrawn_keys('complaint_id') }}

)

select * from final
