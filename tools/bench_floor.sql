-- The benchmark floor: the pipeline's work as one plain DuckDB script over the inbox files
-- (read, validate, de-duplicate, compute the 15 KPIs per day x city, roll up, write).
-- bench.py fills in {{files:<entity>}} (a list literal of the files that passed the
-- name / encoding / header checks), {{as_of}}, {{catalog}} and {{out}}, and runs it in a
-- fresh in-memory DuckDB. What it simplifies is listed in docs/performance.md.

-- Strict parsers. A 19-character value that try_strptime accepts is the spec's timestamp
-- (cheaper than the pipeline's regex guard, same verdict on every planted fault).
create macro ts(x) as case when length(x) = 19 then try_strptime(x, '%Y-%m-%d %H:%M:%S') end;
create macro int_(x) as case when regexp_full_match(x, '-?[0-9]+') then try_cast(x as bigint) end;
create macro dec_(x) as
    case when regexp_full_match(x, '-?[0-9]+([.][0-9]{1,4})?') then try_cast(x as decimal(18, 4)) end;
create macro mon(x) as
    case when regexp_full_match(x, '[0-9]{4}-[0-9]{2}') then cast(try_strptime(x || '-01', '%Y-%m-%d') as date) end;
-- rule 2: empty, or parses
create macro ok(raw, parsed) as raw is null or parsed is not null;
-- rule 5: a <= b where both are present
create macro le(a, b) as coalesce(a <= b, true);

-- Records with the wrong field count are skipped (rule 2); columns matched by name.
create macro src(f) as table
    select * from read_csv(f, all_varchar = true, union_by_name = true, filename = true,
                           header = true, ignore_errors = true, delim = ',', quote = '"', escape = '"');

-- Reference data (one snapshot file each): key present, enums, one row per key.
create table cities as
    select distinct city_code from src({{files:ref_city}}) where city_code is not null;
create table districts as
    select district_code from src({{files:ref_district}})
    where district_code is not null and area_type in ('urban', 'rural')
        and city_code in (select city_code from cities)
    qualify row_number() over (partition by district_code) = 1;
create table stores as
    select store_id, city_code from src({{files:ref_store}})
    where store_id is not null and store_level in ('flagship', 'standard', 'community')
        and city_code in (select city_code from cities)
    qualify row_number() over (partition by store_id) = 1;
create table teams as
    select team_id from src({{files:ref_team}})
    where team_id is not null and team_type in ('field', 'hotline')
        and city_code in (select city_code from cities)
    qualify row_number() over (partition by team_id) = 1;
create table agents as
    select agent_id from src({{files:ref_agent}})
    where agent_id is not null and team_id in (select team_id from teams)
    qualify row_number() over (partition by agent_id) = 1;

-- Extracts: typed + accepted rows land in a table (insertion order = file, then line, so
-- rowid is the line tie-breaker), then one version per key survives.

create table acc_tickets as
select * from (
    select ticket_id, store_id, business_type, status, filename,
        ts(taken_at) as taken_at, ts(called_at) as called_at, ts(service_end_at) as service_end_at,
        ts(abandoned_at) as abandoned_at, ts(updated_at) as updated_at,
        taken_at as r1, called_at as r2, service_end_at as r3, abandoned_at as r4, updated_at as r5
    from src({{files:crm_queue_ticket}})
)
where ticket_id is not null
    and ok(r1, taken_at) and ok(r2, called_at) and ok(r3, service_end_at) and ok(r4, abandoned_at) and ok(r5, updated_at)
    and business_type in ('activation', 'payment', 'broadband', 'complaint', 'device', 'other')
    and status in ('waiting', 'served', 'abandoned')
    and store_id in (select store_id from stores)
    and le(taken_at, called_at) and le(called_at, service_end_at) and le(taken_at, abandoned_at)
    and not (status = 'served' and called_at is null) and not (status = 'abandoned' and abandoned_at is null);
create table tickets as
    select t.*, s.city_code from acc_tickets t join stores s using (store_id)
    qualify row_number() over (partition by ticket_id order by updated_at desc nulls last, filename desc, t.rowid desc) = 1;
drop table acc_tickets;

create table acc_complaints as
select * from (
    select complaint_id, customer_id, city_code, channel, category, severity, status, filename,
        ts(created_at) as created_at, ts(closed_at) as closed_at, ts(updated_at) as updated_at,
        created_at as r1, closed_at as r2, updated_at as r3
    from src({{files:crm_complaint}})
)
where complaint_id is not null and ok(r1, created_at) and ok(r2, closed_at) and ok(r3, updated_at)
    and channel in ('hotline', 'store', 'online', 'regulator')
    and category in ('mobile_network', 'broadband', 'billing', 'service_attitude', 'product', 'other')
    and severity in ('normal', 'urgent') and status in ('open', 'closed', 'cancelled')
    and city_code in (select city_code from cities)
    and le(created_at, closed_at) and not (status = 'closed' and closed_at is null);
create table complaints as
    select * from acc_complaints
    qualify row_number() over (partition by complaint_id order by updated_at desc nulls last, filename desc, rowid desc) = 1;
drop table acc_complaints;

create table acc_surveys as
select * from (
    select survey_id, contact_type, city_code, filename,
        ts(sent_at) as sent_at, ts(responded_at) as responded_at, int_(score) as score, ts(updated_at) as updated_at,
        sent_at as r1, responded_at as r2, score as r3, updated_at as r4
    from src({{files:crm_survey}})
)
where survey_id is not null and ok(r1, sent_at) and ok(r2, responded_at) and ok(r3, score) and ok(r4, updated_at)
    and contact_type in ('hotline', 'store', 'install', 'repair', 'complaint')
    and city_code in (select city_code from cities)
    and le(sent_at, responded_at)
    and (score is null or score between 1 and 5) and ((score is null) = (responded_at is null));
create table surveys as
    select * from acc_surveys
    qualify row_number() over (partition by survey_id order by updated_at desc nulls last, filename desc, rowid desc) = 1;
drop table acc_surveys;

create table subscribers as
select * from (
    select mon(month) as month, city_code, product, int_(active_subscribers) as active_subscribers, filename,
        month as r1, active_subscribers as r2
    from src({{files:crm_subscriber}})
)
where month is not null and city_code in (select city_code from cities) and product in ('mobile', 'broadband', 'fixed')
    and ok(r2, active_subscribers) and coalesce(active_subscribers >= 0, true)
qualify row_number() over (partition by month, city_code, product order by filename desc) = 1;

create table acc_disputes as
select * from (
    select dispute_id, city_code, outcome, status, filename, mon(bill_month) as bill_month, dec_(amount) as amount,
        ts(raised_at) as raised_at, ts(resolved_at) as resolved_at, ts(updated_at) as updated_at,
        bill_month as r1, amount as r2, raised_at as r3, resolved_at as r4, updated_at as r5
    from src({{files:billing_dispute}})
)
where dispute_id is not null and ok(r1, bill_month) and ok(r2, amount) and ok(r3, raised_at) and ok(r4, resolved_at) and ok(r5, updated_at)
    and (outcome is null or outcome in ('billing_error', 'no_error', 'withdrawn')) and status in ('open', 'resolved')
    and city_code in (select city_code from cities)
    and le(raised_at, resolved_at) and coalesce(amount >= 0, true);
create table disputes as
    select * from acc_disputes
    qualify row_number() over (partition by dispute_id order by updated_at desc nulls last, filename desc, rowid desc) = 1;
drop table acc_disputes;

create table acc_refunds as
select * from (
    select refund_id, city_code, status, filename, dec_(amount) as amount,
        ts(requested_at) as requested_at, ts(completed_at) as completed_at, ts(updated_at) as updated_at,
        amount as r1, requested_at as r2, completed_at as r3, updated_at as r4
    from src({{files:billing_refund}})
)
where refund_id is not null and ok(r1, amount) and ok(r2, requested_at) and ok(r3, completed_at) and ok(r4, updated_at)
    and status in ('pending', 'completed', 'rejected') and city_code in (select city_code from cities)
    and le(requested_at, completed_at) and not (status = 'completed' and completed_at is null)
    and coalesce(amount >= 0, true);
create table refunds as
    select * from acc_refunds
    qualify row_number() over (partition by refund_id order by updated_at desc nulls last, filename desc, rowid desc) = 1;
drop table acc_refunds;

create table bill_runs as
select * from (
    select mon(bill_month) as bill_month, city_code, int_(bills_issued) as bills_issued, filename, bills_issued as r1
    from src({{files:billing_bill_run}})
)
where bill_month is not null and city_code in (select city_code from cities)
    and ok(r1, bills_issued) and coalesce(bills_issued >= 0, true)
qualify row_number() over (partition by bill_month, city_code order by filename desc) = 1;

create table acc_calls as
select * from (
    select call_id, caller_id, city_code, skill_group, agent_id, filename,
        ts(arrived_at) as arrived_at, ts(ivr_exit_at) as ivr_exit_at, ts(queue_entered_at) as queue_entered_at,
        ts(answered_at) as answered_at, ts(ended_at) as ended_at, int_(transferred) as transferred,
        arrived_at as r1, ivr_exit_at as r2, queue_entered_at as r3, answered_at as r4, ended_at as r5, transferred as r6
    from src({{files:cc_call}})
)
where call_id is not null
    and ok(r1, arrived_at) and ok(r2, ivr_exit_at) and ok(r3, queue_entered_at) and ok(r4, answered_at) and ok(r5, ended_at) and ok(r6, transferred)
    and skill_group in ('general', 'broadband', 'billing', 'mobile', 'vip')
    and city_code in (select city_code from cities)
    and (agent_id is null or agent_id in (select agent_id from agents))
    and le(arrived_at, queue_entered_at) and le(arrived_at, answered_at) and le(arrived_at, ended_at)
    and le(queue_entered_at, answered_at) and le(queue_entered_at, ended_at) and le(answered_at, ended_at)
    and ended_at is not null
    and not (answered_at is not null and (queue_entered_at is null or agent_id is null));
create table calls as
    select * from acc_calls
    qualify row_number() over (partition by call_id order by filename desc, rowid desc) = 1;
drop table acc_calls;

create table acc_orders as
select * from (
    select order_id, order_type, line_id, city_code, district_code, area_type, team_id, status, fault_cause, filename,
        ts(created_at) as created_at, ts(promised_by) as promised_by, ts(appointment_start) as appointment_start,
        ts(appointment_end) as appointment_end, ts(arrived_at) as arrived_at, ts(completed_at) as completed_at,
        ts(updated_at) as updated_at,
        created_at as r1, promised_by as r2, appointment_start as r3, appointment_end as r4,
        arrived_at as r5, completed_at as r6, updated_at as r7
    from src({{files:fo_work_order}})
)
where order_id is not null
    and ok(r1, created_at) and ok(r2, promised_by) and ok(r3, appointment_start) and ok(r4, appointment_end)
    and ok(r5, arrived_at) and ok(r6, completed_at) and ok(r7, updated_at)
    and order_type in ('install', 'repair') and area_type in ('urban', 'rural') and status in ('open', 'completed', 'cancelled')
    and (fault_cause is null or fault_cause in ('fiber_cut', 'onu_fault', 'config', 'customer_side', 'no_fault_found'))
    and city_code in (select city_code from cities)
    and (district_code is null or district_code in (select district_code from districts))
    and (team_id is null or team_id in (select team_id from teams))
    and le(created_at, arrived_at) and le(created_at, completed_at) and le(appointment_start, appointment_end)
    and not (status = 'completed' and completed_at is null);
create table orders as
    select * from acc_orders
    qualify row_number() over (partition by order_id order by updated_at desc nulls last, filename desc, rowid desc) = 1;
drop table acc_orders;

create table acc_tests as
select * from (
    select test_id, city_code, method, filename, ts(tested_at) as tested_at,
        dec_(subscribed_down_mbps) as subscribed, dec_(measured_down_mbps) as measured_down, dec_(measured_up_mbps) as measured_up,
        tested_at as r1, subscribed_down_mbps as r2, measured_down_mbps as r3, measured_up_mbps as r4
    from src({{files:net_speed_test}})
)
where test_id is not null and ok(r1, tested_at) and ok(r2, subscribed) and ok(r3, measured_down) and ok(r4, measured_up)
    and method in ('wired_app', 'wifi_app', 'probe', 'technician') and city_code in (select city_code from cities)
    and coalesce(subscribed > 0, true) and coalesce(measured_down >= 0, true) and coalesce(measured_up >= 0, true);
create table tests as
    select * from acc_tests
    qualify row_number() over (partition by test_id order by filename desc, rowid desc) = 1;
drop table acc_tests;

-- The 15 KPIs per day x city: (kpi, day, city, numerator, denominator, counts_as_row).
create table kpi_city_day as
with
hotline as (
    select city_code, queue_entered_at, answered_at from calls
    where queue_entered_at is not null
        and (answered_at is not null or ended_at >= queue_entered_at + interval 5 second)
),
k04 as (  -- next queued call of the same caller after this one ended (ASOF join)
    select due.city_code, due.answered_at, due.ended_at, nxt.queue_entered_at as next_at
    from (select * from calls where answered_at is not null and ended_at + interval 72 hour <= {{as_of}}) due
    asof left join (select caller_id, queue_entered_at from calls
                     where queue_entered_at is not null and caller_id <> '') nxt
        on due.caller_id = nxt.caller_id and nxt.queue_entered_at > due.ended_at
),
live_complaints as (select * from complaints where status <> 'cancelled' and created_at is not null),
k08 as (
    select cur.city_code, cur.created_at, prev.created_at as prev_at
    from live_complaints cur
    asof left join (select customer_id, created_at from live_complaints where customer_id <> '') prev
        on cur.customer_id = prev.customer_id and prev.created_at < cur.created_at
),
live_orders as (select * from orders where status <> 'cancelled'),
repairs as (select * from live_orders where order_type = 'repair' and created_at is not null),
k14 as (
    select cur.city_code, cur.created_at, prev.created_at as prev_at
    from repairs cur
    asof left join (select line_id, created_at from repairs where line_id <> '') prev
        on cur.line_id = prev.line_id and prev.created_at < cur.created_at
),
records as (
    select 'K01' as kpi, taken_at::date as day, city_code,
        (status = 'served' and called_at <= taken_at + interval 900 second)::int as num, 1 as den
    from tickets
    where taken_at is not null and ((status = 'served' and called_at is not null)
        or (status = 'abandoned' and abandoned_at > taken_at + interval 900 second))
    union all
    select 'K02', queue_entered_at::date, city_code, (answered_at is not null)::int, 1 from hotline
    union all
    select 'K03', queue_entered_at::date, city_code,
        coalesce(answered_at <= queue_entered_at + interval 20 second, false)::int, 1 from hotline
    union all
    select 'K04', answered_at::date, city_code,
        (next_at is null or next_at > ended_at + interval 72 hour)::int, 1 from k04
    union all
    select 'K05', responded_at::date, city_code, (score >= 4)::int, 1 from surveys
    where responded_at is not null and score is not null
    union all
    select 'K06', created_at::date, city_code, 1, 0 from live_complaints
    union all
    select 'K07', created_at::date, city_code,
        coalesce(closed_at <= created_at + if(severity = 'urgent', interval 24 hour, interval 48 hour), false)::int, 1
    from live_complaints
    where closed_at is not null or created_at + if(severity = 'urgent', interval 24 hour, interval 48 hour) <= {{as_of}}
    union all
    select 'K08', created_at::date, city_code, coalesce(prev_at >= created_at - interval 30 day, false)::int, 1 from k08
    union all
    select 'K09', raised_at::date, city_code, 1, 0 from disputes where raised_at is not null
    union all
    select 'K10', requested_at::date, city_code,
        coalesce(completed_at <= requested_at + interval 72 hour, false)::int, 1
    from refunds
    where status <> 'rejected' and requested_at is not null
        and (completed_at is not null or requested_at + interval 72 hour <= {{as_of}})
    union all
    select 'K11', promised_by::date, city_code, coalesce(completed_at <= promised_by, false)::int, 1
    from live_orders
    where order_type = 'install' and promised_by is not null and (completed_at is not null or promised_by <= {{as_of}})
    union all
    select 'K12', created_at::date, city_code,
        coalesce(completed_at <= created_at + if(area_type = 'urban', interval 24 hour, interval 48 hour), false)::int, 1
    from repairs
    where completed_at is not null or created_at + if(area_type = 'urban', interval 24 hour, interval 48 hour) <= {{as_of}}
    union all
    select 'K13', appointment_start::date, city_code,
        coalesce(arrived_at between appointment_start - interval 15 minute and appointment_end, false)::int, 1
    from live_orders
    where appointment_start is not null and appointment_end is not null
        and (arrived_at is not null or appointment_end <= {{as_of}})
    union all
    select 'K14', created_at::date, city_code, coalesce(prev_at >= created_at - interval 30 day, false)::int, 1 from k14
    union all
    select 'K15', tested_at::date, city_code,
        (measured_down >= cast(0.9 as decimal(2, 1)) * subscribed)::int, 1
    from tests
    where method <> 'wifi_app' and tested_at is not null and measured_down is not null and subscribed is not null
)
select kpi, day, city_code, sum(num) as num, sum(den) as den, true as counts_as_row
from records where kpi not in ('K06', 'K09') and day < {{as_of}}::date
group by all
union all
-- month KPIs: numerators on their day, denominators (which make the row exist) on the 1st
select kpi, day, city_code, sum(num), sum(den), false from records
where kpi in ('K06', 'K09') group by all
union all
select 'K06', month, city_code, 0, sum(active_subscribers), true from subscribers
where active_subscribers is not null group by all
union all
select 'K09', bill_month, city_code, 0, sum(bills_issued), true from bill_runs
where bills_issued is not null group by all;

-- Day and month rows per city and for the province, RAG status, written as the snapshot.
copy (
    with catalog as (
        select * from read_csv('{{catalog}}', header = true,
                               types = {'target': 'decimal(18,4)', 'red_threshold': 'decimal(18,4)', 'scale': 'integer'})
    ),
    city_rows as (
        select 'day' as period_type, day as period_start, kpi, city_code as region_code, num, den
        from kpi_city_day where kpi not in ('K06', 'K09')
        union all
        select 'month', date_trunc('month', day)::date, kpi, city_code, sum(num), sum(den)
        from kpi_city_day group by all having bool_or(counts_as_row)
    ),
    all_rows as (
        select * from city_rows
        union all
        select period_type, period_start, kpi, 'JS', sum(num), sum(den) from city_rows group by all
    )
    select period_type, strftime(period_start, '%Y-%m-%d') as period_start, kpi as kpi_code, region_code,
        num as numerator, den as denominator,
        if(den = 0, null, round(num * scale / den, 12)) as value,
        case
            when den = 0 then 'no_data'
            when direction = 'up' then case when num * scale >= target * den then 'green'
                                            when num * scale < red_threshold * den then 'red' else 'amber' end
            else case when num * scale <= target * den then 'green'
                      when num * scale > red_threshold * den then 'red' else 'amber' end
        end as status
    from all_rows join catalog on all_rows.kpi = catalog.kpi_code
    order by period_type, period_start, kpi_code, region_code
) to '{{out}}' (header true);
