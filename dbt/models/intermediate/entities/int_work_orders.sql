-- int_work_orders: accepted rows of stg_fo__work_orders, one per key (source-extracts.md section 7):
-- latest updated_at (NULLs last), then the later file date, then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('order_id') }}

with

{{ touched_cte('fo_work_order', 'stg_fo__work_orders', 'order_id') }}
work_orders as (

    select
        order_id,
        order_type,
        line_id,
        city_code,
        district_code,
        area_type,
        team_id,
        technician_id,
        created_at,
        promised_by,
        appointment_start,
        appointment_end,
        arrived_at,
        completed_at,
        status,
        fault_cause,
        updated_at,
        _file,
        _file_date,
        _line
    from {{ ref('stg_fo__work_orders') }}
    where {{ accepted('fo_work_order') }}{{ only_touched_keys('order_id') }}

),

latest as (

    select * from work_orders
    qualify row_number() over (
        partition by order_id
        order by updated_at desc nulls last, _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

    select
        latest.order_id,
        latest.order_type,
        latest.line_id,
        latest.city_code,
        latest.district_code,
        latest.area_type,
        latest.team_id,
        latest.technician_id,
        latest.created_at,
        latest.promised_by,
        latest.appointment_start,
        latest.appointment_end,
        latest.arrived_at,
        latest.completed_at,
        latest.status,
        latest.fault_cause,
        latest.updated_at,
        latest._file,
        latest._file_date,
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest

),

final as (

    {{ with_withdrawn_keys('order_id') }}

)

select * from final
