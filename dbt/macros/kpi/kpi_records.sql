{#
  Record-level facts of the 15 KPIs (kpi-catalog.md): one row per record and KPI it counts
  in. One CTE per KPI, unioned at the end: adding a KPI = one seed row + one branch + one
  unit test.

  Daily KPIs: one row per denominator record (denominator 1, numerator 0/1, counts_as_row).
  K06 / K09: numerator rows (a complaint / dispute: numerator 1, denominator 0, on its day)
  and denominator rows (a subscriber / bill-run row: denominator = the count, on the first
  day of its month, counts_as_row = true: they put the month row into existence).
  Day of a record = calendar date of its attribution timestamp (already local time).
  Durations are compared as timestamp + interval (exact seconds); limits inclusive unless
  stated.

  `since`: the first moment whose records the call (K02-K04), queue-ticket (K01) and
  speed-test (K15) branches compute, per group (kpi_windows()); every record by default.
  The view int_kpi_records is this with every record; fct_kpi_drilldown computes only its
  window.
#}
{% macro kpi_records(since=none) -%}
{%- set since = since or kpi_windows_all() -%}
with as_of as (

    select as_of_at from {{ ref('int_as_of') }}

),

queue_tickets as (

    select * from {{ ref('int_queue_tickets') }}

),

calls as (

    select * from {{ ref('int_calls') }}

),

surveys as (

    select * from {{ ref('int_surveys') }}

),

complaints as (

    select * from {{ ref('int_complaints') }}

),

subscribers as (

    select * from {{ ref('int_subscribers') }}

),

disputes as (

    select * from {{ ref('int_disputes') }}

),

bill_runs as (

    select * from {{ ref('int_bill_runs') }}

),

refunds as (

    select * from {{ ref('int_refunds') }}

),

work_orders as (

    select * from {{ ref('int_work_orders') }}

),

speed_tests as (

    select * from {{ ref('int_speed_tests') }}

),

-- shared record sets --------------------------------------------------------------------

-- calls that reached the human queue, without short abandons (never answered and ended
-- less than 5 s after entering the queue); an unanswered call without ended_at cannot be
-- classified and is left out
hotline_calls as (

    select *
    from calls
    where queue_entered_at is not null
        and city_code is not null
        -- the days an incremental fct_kpi_drilldown computes again (fct_kpi_windows)
        and queue_entered_at >= {{ since.calls }}
        and (
            answered_at is not null
            or (ended_at is not null and ended_at >= queue_entered_at + interval 5 second)
        )

),

-- complaints counted by the complaint KPIs (cancelled ones count in no KPI)
live_complaints as (

    select *
    from complaints
    where status is distinct from 'cancelled'
        and created_at is not null

),

live_work_orders as (

    select *
    from work_orders
    where status is distinct from 'cancelled'

),

live_repairs as (

    select *
    from live_work_orders
    where order_type = 'repair'
        and created_at is not null

),

-- K01 store queue-wait compliance -------------------------------------------------------
k01 as (

    select
        'K01' as kpi_code,
        ticket_id as record_id,
        cast(taken_at as date) as activity_date,
        city_code,
        store_id,
        district_code,
        case
            when status = 'served' and called_at <= taken_at + interval 900 second then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from queue_tickets
    where taken_at is not null
        and city_code is not null
        and taken_at >= {{ since.queue_tickets }}
        and (
            (status = 'served' and called_at is not null)
            or (status = 'abandoned' and abandoned_at > taken_at + interval 900 second)
        )

),

-- K02 hotline agent connect rate -------------------------------------------------------
k02 as (

    select
        'K02' as kpi_code,
        call_id as record_id,
        cast(queue_entered_at as date) as activity_date,
        city_code,
        team_id,
        site_id,
        agent_id,
        skill_group,
        case when answered_at is not null then 1 else 0 end as numerator,
        1 as denominator,
        true as counts_as_row
    from hotline_calls

),

-- K03 hotline 20-second service level ---------------------------------------------------
k03 as (

    select
        'K03' as kpi_code,
        call_id as record_id,
        cast(queue_entered_at as date) as activity_date,
        city_code,
        team_id,
        site_id,
        agent_id,
        skill_group,
        case
            when answered_at is not null
                and answered_at <= queue_entered_at + interval 20 second then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from hotline_calls

),

-- K04 first-contact resolution ---------------------------------------------------------
-- answered calls whose 72 h window has closed by T
k04_due_calls as (

    select calls.*
    from calls
    cross join as_of
    where calls.answered_at is not null
        and calls.ended_at is not null
        and calls.city_code is not null
        and calls.ended_at + interval 72 hour <= as_of.as_of_at
        and calls.answered_at >= {{ since.calls }}

),

-- possible repeat calls: any call of a non-empty caller that entered the queue
k04_queue_calls as (

    select
        caller_id,
        queue_entered_at
    from calls
    where queue_entered_at is not null
        and caller_id is not null
        and caller_id <> ''
        -- a repeat enters the queue after the due call ended, so after it was answered
        -- (ended_at >= answered_at: source-extracts rule 5)
        and queue_entered_at >= {{ since.calls }}

),

-- first call of the same caller entering the queue strictly after ended_at (ASOF join:
-- one ordered lookup instead of a self-join); a call's own queue_entered_at is never
-- after its own ended_at, so the match is always another call
k04_next_call as (

    select
        due.*,
        nxt.queue_entered_at as next_queue_entered_at
    from k04_due_calls as due
    asof left join k04_queue_calls as nxt
        on due.caller_id = nxt.caller_id
        and nxt.queue_entered_at > due.ended_at

),

k04 as (

    select
        'K04' as kpi_code,
        call_id as record_id,
        cast(answered_at as date) as activity_date,
        city_code,
        team_id,
        site_id,
        agent_id,
        skill_group,
        case
            when next_queue_entered_at is not null
                and next_queue_entered_at <= ended_at + interval 72 hour then 0
            else 1
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from k04_next_call

),

-- K05 customer satisfaction -------------------------------------------------------------
k05 as (

    select
        'K05' as kpi_code,
        survey_id as record_id,
        cast(responded_at as date) as activity_date,
        city_code,
        case when score >= 4 then 1 else 0 end as numerator,
        1 as denominator,
        true as counts_as_row
    from surveys
    where responded_at is not null
        and score is not null
        and city_code is not null

),

-- K06 complaints per 10,000 subscribers (month KPI) -------------------------------------
k06_complaints as (

    select
        'K06' as kpi_code,
        complaint_id as record_id,
        cast(created_at as date) as activity_date,
        city_code,
        1 as numerator,
        0 as denominator,
        false as counts_as_row
    from live_complaints
    where city_code is not null

),

k06_subscribers as (

    select
        'K06' as kpi_code,
        strftime(month, '%Y-%m') || '|' || city_code || '|' || product as record_id,
        cast(date_trunc('month', month) as date) as activity_date,
        city_code,
        0 as numerator,
        active_subscribers as denominator,
        true as counts_as_row
    from subscribers
    where month is not null
        and city_code is not null
        and active_subscribers is not null

),

k06 as (

    select
        kpi_code,
        record_id,
        activity_date,
        city_code,
        numerator,
        denominator,
        counts_as_row
    from (
        select * from k06_complaints
        union all
        select * from k06_subscribers
    )

),

-- K07 complaint on-time handling --------------------------------------------------------
k07_deadlines as (

    select
        live_complaints.*,
        created_at + case severity
            when 'urgent' then interval 24 hour
            when 'normal' then interval 48 hour
        end as deadline_at
    from live_complaints
    where city_code is not null
        and severity in ('normal', 'urgent')

),

k07 as (

    select
        'K07' as kpi_code,
        complaint_id as record_id,
        cast(created_at as date) as activity_date,
        city_code,
        case when closed_at is not null and closed_at <= deadline_at then 1 else 0 end
            as numerator,
        1 as denominator,
        true as counts_as_row
    from k07_deadlines
    cross join as_of
    where closed_at is not null
        or deadline_at <= as_of.as_of_at

),

-- K08 repeat complaints -----------------------------------------------------------------
k08_earlier_candidates as (

    select
        customer_id,
        created_at
    from live_complaints
    where customer_id is not null
        and customer_id <> ''

),

-- latest complaint of the same customer strictly before created_at (same created_at is
-- not earlier), then checked against the 30-day window
k08_previous as (

    select
        cur.*,
        prev.created_at as previous_created_at
    from live_complaints as cur
    asof left join k08_earlier_candidates as prev
        on cur.customer_id = prev.customer_id
        and prev.created_at < cur.created_at
    where cur.city_code is not null

),

k08 as (

    select
        'K08' as kpi_code,
        complaint_id as record_id,
        cast(created_at as date) as activity_date,
        city_code,
        case
            when previous_created_at is not null
                and previous_created_at >= created_at - interval 30 day then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from k08_previous

),

-- K09 billing disputes per 10,000 bills (month KPI) -------------------------------------
k09_disputes as (

    select
        'K09' as kpi_code,
        dispute_id as record_id,
        cast(raised_at as date) as activity_date,
        city_code,
        1 as numerator,
        0 as denominator,
        false as counts_as_row
    from disputes
    where raised_at is not null
        and city_code is not null

),

k09_bill_runs as (

    select
        'K09' as kpi_code,
        strftime(bill_month, '%Y-%m') || '|' || city_code as record_id,
        cast(date_trunc('month', bill_month) as date) as activity_date,
        city_code,
        0 as numerator,
        bills_issued as denominator,
        true as counts_as_row
    from bill_runs
    where bill_month is not null
        and city_code is not null
        and bills_issued is not null

),

k09 as (

    select
        kpi_code,
        record_id,
        activity_date,
        city_code,
        numerator,
        denominator,
        counts_as_row
    from (
        select * from k09_disputes
        union all
        select * from k09_bill_runs
    )

),

-- K10 refund on-time --------------------------------------------------------------------
k10 as (

    select
        'K10' as kpi_code,
        refund_id as record_id,
        cast(requested_at as date) as activity_date,
        city_code,
        case
            when completed_at is not null
                and completed_at <= requested_at + interval 72 hour then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from refunds
    cross join as_of
    where status is distinct from 'rejected'
        and requested_at is not null
        and city_code is not null
        and (
            completed_at is not null
            or requested_at + interval 72 hour <= as_of.as_of_at
        )

),

-- K11 installation on-time --------------------------------------------------------------
k11 as (

    select
        'K11' as kpi_code,
        order_id as record_id,
        cast(promised_by as date) as activity_date,
        city_code,
        district_code,
        team_id,
        case when completed_at is not null and completed_at <= promised_by then 1 else 0 end
            as numerator,
        1 as denominator,
        true as counts_as_row
    from live_work_orders
    cross join as_of
    where order_type = 'install'
        and promised_by is not null
        and city_code is not null
        and (completed_at is not null or promised_by <= as_of.as_of_at)

),

-- K12 repair on-time --------------------------------------------------------------------
k12_deadlines as (

    select
        live_repairs.*,
        created_at + case area_type
            when 'urban' then interval 24 hour
            when 'rural' then interval 48 hour
        end as deadline_at
    from live_repairs
    where city_code is not null
        and area_type in ('urban', 'rural')

),

k12 as (

    select
        'K12' as kpi_code,
        order_id as record_id,
        cast(created_at as date) as activity_date,
        city_code,
        district_code,
        team_id,
        case when completed_at is not null and completed_at <= deadline_at then 1 else 0 end
            as numerator,
        1 as denominator,
        true as counts_as_row
    from k12_deadlines
    cross join as_of
    where completed_at is not null
        or deadline_at <= as_of.as_of_at

),

-- K13 appointment punctuality -----------------------------------------------------------
k13 as (

    select
        'K13' as kpi_code,
        order_id as record_id,
        cast(appointment_start as date) as activity_date,
        city_code,
        district_code,
        team_id,
        case
            when arrived_at >= appointment_start - interval 15 minute
                and arrived_at <= appointment_end then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from live_work_orders
    cross join as_of
    where order_type in ('install', 'repair')
        and appointment_start is not null
        and appointment_end is not null
        and city_code is not null
        and (arrived_at is not null or appointment_end <= as_of.as_of_at)

),

-- K14 repeat faults ---------------------------------------------------------------------
k14_earlier_candidates as (

    select
        line_id,
        created_at
    from live_repairs
    where line_id is not null
        and line_id <> ''

),

k14_previous as (

    select
        cur.*,
        prev.created_at as previous_created_at
    from live_repairs as cur
    asof left join k14_earlier_candidates as prev
        on cur.line_id = prev.line_id
        and prev.created_at < cur.created_at
    where cur.city_code is not null

),

k14 as (

    select
        'K14' as kpi_code,
        order_id as record_id,
        cast(created_at as date) as activity_date,
        city_code,
        district_code,
        team_id,
        case
            when previous_created_at is not null
                and previous_created_at >= created_at - interval 30 day then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from k14_previous

),

-- K15 speed-test pass rate --------------------------------------------------------------
k15 as (

    select
        'K15' as kpi_code,
        test_id as record_id,
        cast(tested_at as date) as activity_date,
        city_code,
        -- exact DECIMAL comparison: measured >= 0.9 * subscribed
        case
            when cast(measured_down_mbps as decimal(38, 4))
                >= cast(0.9 as decimal(2, 1)) * cast(subscribed_down_mbps as decimal(36, 4))
                then 1
            else 0
        end as numerator,
        1 as denominator,
        true as counts_as_row
    from speed_tests
    where method is not null
        and method <> 'wifi_app'
        and tested_at is not null
        and tested_at >= {{ since.speed_tests }}
        and city_code is not null
        and measured_down_mbps is not null
        and subscribed_down_mbps is not null

),

-- by name: each branch names only the drill-down columns it has; the others are NULL
unioned as (

    select * from k01
    union all by name select * from k02
    union all by name select * from k03
    union all by name select * from k04
    union all by name select * from k05
    union all by name select * from k06
    union all by name select * from k07
    union all by name select * from k08
    union all by name select * from k09
    union all by name select * from k10
    union all by name select * from k11
    union all by name select * from k12
    union all by name select * from k13
    union all by name select * from k14
    union all by name select * from k15

),

final as (

    select
        cast(kpi_code as varchar) as kpi_code,
        cast(record_id as varchar) as record_id,
        cast(activity_date as date) as activity_date,
        cast(city_code as varchar) as city_code,
        cast(store_id as varchar) as store_id,
        cast(district_code as varchar) as district_code,
        cast(team_id as varchar) as team_id,
        cast(site_id as varchar) as site_id,
        cast(agent_id as varchar) as agent_id,
        cast(skill_group as varchar) as skill_group,
        cast(numerator as bigint) as numerator,
        cast(denominator as bigint) as denominator,
        cast(counts_as_row as boolean) as counts_as_row
    from unioned
    -- no as-of time (no daily file loaded) -> no KPI facts at all
    where exists (select 1 from as_of)

)

select * from final
{%- endmacro %}
