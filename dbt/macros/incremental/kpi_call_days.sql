{#
  The call KPIs (K02, K03, K04) of fct_kpi_drilldown by date window (docs/decisions.md,
  "Incremental runs").

  Three quarters of the KPI records are calls, and a daily delivery holds the calls of its
  day (a call is a finished record, not one updated for weeks). So an incremental
  build of fct_kpi_drilldown keeps the call KPIs' rows of the days before a first changed
  day F, and recomputes everything else: the call KPIs from F on, every other KPI in full
  (their records are few, and their deliveries reach weeks back: work orders and refunds
  change until they are closed).

  F is the earliest day whose call-KPI rows may differ from the previous build's:
  - the days the changed calls count in, before and after the change: the entity model
    keeps the touched keys and the replaced rows (macros/incremental: keep_replaced);
  - K04: the day of every earlier call of the same caller whose 72 h window holds a
    changed call's queue entry (that call may be, or stop being, its repeat);
  - K04: the days of the calls whose 72 h window closed between the previous build's T
    and this one's;
  - the daily KPIs report the days before T: from the earlier of the two T's on.
  Every other call-KPI row depends on nothing that changed: its call (untouched), its
  caller's later calls within 72 h (untouched), T's side of its window (the same), the
  reference data and the targets (a new reference file touches every key; a changed seed
  is a changed project, rebuilt in full). No F (everything): int_calls was rebuilt in
  full, or there is no previous T.

  The window reaches int_kpi_records through a DuckDB variable set by the pre-hook on the
  model's own connection and reset by the post-hook: the view stays one definition, its
  unit tests and every other reader see all records (an unset variable is NULL).
#}

{% macro kpi_call_kpis() -%}
('K02', 'K03', 'K04')
{%- endmacro %}


{# In int_kpi_records: the earliest time the call branches compute (-infinity: all). #}
{% macro kpi_calls_from() -%}
coalesce(cast(getvariable('qloop_kpi_calls_from') as timestamp), timestamp '-infinity')
{%- endmacro %}


{# The T each incremental KPI build was made with, and the first day whose call-KPI rows
   it recomputed (NULL: every row). #}
{% macro create_model_as_of_table() %}
create table if not exists {{ target.schema }}.qloop_model_as_of (
    model varchar primary key,
    as_of_at timestamp not null,
    recomputed_from date
)
{% endmacro %}


{% macro kpi_first_changed_call_day() -%}
{%- set calls = ref('int_calls') %}
with previous as (

    select as_of_at from {{ target.schema }}.qloop_model_as_of
    where model = '{{ this.identifier }}'

),

current_as_of as (

    select as_of_at from {{ ref('int_as_of') }}

),

calls_rebuilt_in_full as (

    select coalesce((select previous_through from {{ target.schema }}.qloop_watermarks
                     where model = '{{ calls.identifier }}'), timestamp '-infinity')
           = timestamp '-infinity' as yes

),

-- the previous and the new versions of the calls this build chose again
changed_calls as (

    select caller_id, queue_entered_at, answered_at from {{ replaced_rows_table(calls) }}
    union all
    select caller_id, queue_entered_at, answered_at from {{ calls }}
    where call_id in (select touched_key from {{ touched_keys_table(calls) }})

),

first_days as (

    select cast(min(least(queue_entered_at, answered_at)) as date) as day
    from changed_calls

    union all

    select cast(min(earlier.answered_at) as date)
    from {{ calls }} as earlier
    inner join changed_calls as changed
        on earlier.caller_id = changed.caller_id
    where changed.caller_id <> ''
        and earlier.ended_at < changed.queue_entered_at
        and earlier.ended_at + interval 72 hour >= changed.queue_entered_at

    union all

    select cast(min(calls.answered_at) as date)
    from {{ calls }} as calls
    cross join previous
    cross join current_as_of
    where calls.ended_at + interval 72 hour > least(previous.as_of_at, current_as_of.as_of_at)
        and calls.ended_at + interval 72 hour <= greatest(previous.as_of_at, current_as_of.as_of_at)

    union all

    select cast(least(previous.as_of_at, current_as_of.as_of_at) as date)
    from previous
    cross join current_as_of

)

select case
    when (select yes from calls_rebuilt_in_full)
        or not exists (select 1 from previous)
        or not exists (select 1 from current_as_of) then null
    else (select min(day) from first_days)
end
{%- endmacro %}


{# fct_kpi_drilldown's pre-hook: on an incremental build, choose F and delete the rows
   that are recomputed; on a full build, compute everything. #}
{% macro kpi_call_days_before() %}
{%- if is_incremental() %}
set variable qloop_kpi_calls_from = ({{ kpi_first_changed_call_day() }});
delete from {{ this }}
where kpi_code not in {{ kpi_call_kpis() }}
    or getvariable('qloop_kpi_calls_from') is null
    or activity_date >= getvariable('qloop_kpi_calls_from')
{%- else %}
set variable qloop_kpi_calls_from = null
{%- endif %}
{% endmacro %}


{# fct_kpi_drilldown's post-hook: this build's T and F are kept, the variable goes. #}
{% macro kpi_call_days_after() %}
delete from {{ target.schema }}.qloop_model_as_of where model = '{{ this.identifier }}';
insert into {{ target.schema }}.qloop_model_as_of
select '{{ this.identifier }}', as_of_at, getvariable('qloop_kpi_calls_from')
from {{ ref('int_as_of') }};
set variable qloop_kpi_calls_from = null
{% endmacro %}
