-- int_queue_tickets: accepted rows of stg_crm__queue_tickets, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('ticket_id') }}

with

{{ touched_cte('crm_queue_ticket', 'stg_crm__queue_tickets', 'ticket_id') }}
queue_tickets as (

    select
        ticket_id,
        store_id,
        business_type,
        taken_at,
        called_at,
        service_end_at,
        abandoned_at,
        status,
        updated_at,
        _file,
        _file_date,
        _line
    from {{ ref('stg_crm__queue_tickets') }}
    where {{ accepted('crm_queue_ticket') }}{{ only_touched_keys('ticket_id') }}

),

stores as (

    select store_id, city_code, district_code, store_level from {{ ref('int_stores') }}

),

latest as (

    select * from queue_tickets
    qualify row_number() over (
        partition by ticket_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

    select
        latest.ticket_id,
        latest.store_id,
        latest.business_type,
        latest.taken_at,
        latest.called_at,
        latest.service_end_at,
        latest.abandoned_at,
        latest.status,
        latest.updated_at,
        stores.city_code,
        stores.district_code,
        stores.store_level,
        latest._file,
        latest._file_date,
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest
    left join stores on latest.store_id = stores.store_id

),

final as (

    {{ with_withdrawn_keys('ticket_id') }}

)

select * from final
