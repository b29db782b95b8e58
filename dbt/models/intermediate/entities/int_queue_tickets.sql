-- int_queue_tickets: accepted rows of stg_crm__queue_tickets, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows never take part, so a key whose newest version was rejected keeps
-- its newest accepted version.
-- Incremental by delivery: only the keys a new delivery touched are chosen again.
-- The replaced rows' days are kept for fct_kpi_drilldown (macros/incremental/kpi_record_days.sql).
{{ incremental_by_key('crm_queue_ticket', 'stg_crm__queue_tickets', 'ticket_id',
                      keep_replaced=kpi_window_columns('int_queue_tickets')) }}

with

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
    where reject_rule is null{{ only_touched_keys('ticket_id') }}

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

final as (

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
        latest._line

    from latest
    left join stores on latest.store_id = stores.store_id

)

select * from final
