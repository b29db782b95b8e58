-- Which periods are complete as of T (closed-loop.md section 1), stated once: the breach
-- signals, the control chart, the horizontal assessment and the Python verification step
-- all read complete_through from here instead of repeating the rule.
-- A day row counts when period_start <= complete_through; a month row (month KPIs) counts
-- when its last day <= complete_through, i.e. once the whole month is before T.

with kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

as_of as (

    select as_of_at, as_of_date from {{ ref('int_as_of') }}

),

final as (

    select
        kpi_catalog.kpi_code,
        kpi_catalog.grain,
        kpi_catalog.direction,
        -- a day is complete when day < T. K04's numerator looks 72 h past each call (a call
        -- is resolved when the caller does not call again within 72 h of its end, and it is
        -- counted only once those 72 h are over), so a K04 day is complete only when
        -- day + 3 days < T, i.e. day <= T - 4. This is the only place that knows the lag.
        case
            when kpi_catalog.kpi_code = 'K04' then as_of.as_of_date - 4
            else as_of.as_of_date - 1
        end as complete_through,
        as_of.as_of_at
    from kpi_catalog
    -- no daily file loaded (int_as_of empty): no KPI has a complete period
    cross join as_of

)

select * from final
