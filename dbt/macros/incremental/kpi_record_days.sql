{#
  fct_kpi_drilldown by date window for the KPIs of the big daily entities (docs/decisions.md,
  "Incremental runs").

  Nine in ten KPI records are calls (K02, K03, K04), store queue tickets (K01) or speed
  tests (K15), and a daily delivery holds the calls, tickets and tests of its day: they are
  finished records, not ones updated for weeks. So an incremental build of
  fct_kpi_drilldown keeps each such group's rows of the days before its first changed day
  F, and recomputes everything else: the group from F on, every other KPI in full (work
  orders, refunds and complaints change for weeks after they were created: a window would
  reach back a month for them).

  F of a group is the earliest day whose rows of the group may differ from the previous
  build's:
  - the days the changed records count in, before and after the change: the entity model
    keeps the touched keys and the replaced rows' day columns (macros/incremental:
    keep_replaced);
  - calls, K04: the day of every earlier call of the same caller whose 72 h window holds
    a changed call's queue entry (that call may be, or stop being, its repeat), and the
    days of the calls whose 72 h window closed between the previous build's T and this
    one's;
  - the daily KPIs report the days before T: from the earlier of the two T's on.
  Every other row of the group depends on nothing that changed: its record (untouched),
  for K04 its caller's later calls within 72 h (untouched) and T's side of its window (the
  same), the reference data and the targets (a new reference file touches every key; a
  changed seed is a changed project, rebuilt in full). No F (every row): the entity model
  was rebuilt in full, or there is no previous T, or the entity model's last build did not
  start (nor end) where this model's last build saw it (e.g. it was materialized alone
  twice from the Dagster UI): its kept keys are then not all the changes since.

  The windows reach int_kpi_records through DuckDB variables set by the pre-hook on the
  model's own connection and reset by the post-hook: the view stays one definition, and
  its unit tests and every other reader see all records (an unset variable is NULL).
#}

{# The groups: their KPIs, entity model and key, the columns their records' days come
   from (the first ones) plus what else F needs of a replaced row (K04: the caller). #}
{% macro kpi_record_groups() -%}
{{ return([
    {'name': 'calls', 'kpis': ['K02', 'K03', 'K04'], 'model': 'int_calls', 'key': 'call_id',
     'day_columns': ['queue_entered_at', 'answered_at'], 'kept': ['caller_id']},
    {'name': 'queue_tickets', 'kpis': ['K01'], 'model': 'int_queue_tickets', 'key': 'ticket_id',
     'day_columns': ['taken_at'], 'kept': []},
    {'name': 'speed_tests', 'kpis': ['K15'], 'model': 'int_speed_tests', 'key': 'test_id',
     'day_columns': ['tested_at'], 'kept': []},
]) }}
{%- endmacro %}


{# In an entity model's config: the columns of its replaced rows to keep (none when no
   group reads the model). #}
{% macro kpi_window_columns(model_name) -%}
{%- for group in kpi_record_groups() if group.model == model_name %}
{{- return(group.day_columns + group.kept) }}
{%- endfor %}
{{- return([]) }}
{%- endmacro %}


{# In int_kpi_records: the earliest time a group's branches compute (-infinity: all). #}
{% macro kpi_records_from(group) -%}
coalesce(cast(getvariable('qloop_kpi_from_{{ group }}') as timestamp), timestamp '-infinity')
{%- endmacro %}


{# One row per group: the T of the build that made its rows, the first day it
   recomputed (NULL: every row), and the entity model's watermark it saw. #}
{% macro create_kpi_windows_table() %}
create table if not exists {{ target.schema }}.qloop_kpi_windows (
    record_group varchar primary key,
    as_of_at timestamp not null,
    recomputed_from date,
    entity_through timestamp
)
{% endmacro %}


{% macro kpi_first_changed_day(group) -%}
{%- set entity = ref(group.model) %}
{%- set days = group.day_columns %}
{%- set columns = kpi_window_columns(group.model) | join(', ') %}
with previous as (

    select as_of_at, entity_through from {{ target.schema }}.qloop_kpi_windows
    where record_group = '{{ group.name }}'

),

current_as_of as (

    select as_of_at from {{ ref('int_as_of') }}

),

-- the entity model rebuilt everything, or its last build neither started from nor ended
-- at what the previous build of this model saw: its kept keys are not all the changes
-- since (when it ended there, they are older ones: recomputing their days is harmless)
entity_not_continued as (

    select {{ previous_through(entity) }} = timestamp '-infinity'
        or (select entity_through from previous) is null
        or (select entity_through from previous)
            not in ({{ previous_through(entity) }}, {{ model_watermark(entity) }})
        as yes

),

-- the previous and the new versions of the records this build chose again
changed as (

    select {{ columns }} from {{ replaced_rows_table(entity) }}
    union all
    select {{ columns }} from {{ entity }}
    where {{ group.key }} in (select touched_key from {{ touched_keys_table(entity) }})

),

first_days as (

    select cast(min({{ days[0] if days | length == 1 else 'least(' ~ days | join(', ') ~ ')' }}) as date) as day
    from changed
{%- if group.name == 'calls' %}

    union all

    select cast(min(earlier.answered_at) as date)
    from {{ entity }} as earlier
    inner join changed
        on earlier.caller_id = changed.caller_id
    where changed.caller_id <> ''
        and earlier.ended_at < changed.queue_entered_at
        and earlier.ended_at + interval 72 hour >= changed.queue_entered_at

    union all

    select cast(min(calls.answered_at) as date)
    from {{ entity }} as calls
    cross join previous
    cross join current_as_of
    where calls.ended_at + interval 72 hour > least(previous.as_of_at, current_as_of.as_of_at)
        and calls.ended_at + interval 72 hour <= greatest(previous.as_of_at, current_as_of.as_of_at)
{%- endif %}

    union all

    select cast(least(previous.as_of_at, current_as_of.as_of_at) as date)
    from previous
    cross join current_as_of

)

select case
    when coalesce((select yes from entity_not_continued), true)
        or not exists (select 1 from previous)
        or not exists (select 1 from current_as_of) then null
    else (select min(day) from first_days)
end
{%- endmacro %}


{% macro quoted_list(values) -%}
('{{ values | join("', '") }}')
{%- endmacro %}


{# fct_kpi_drilldown's pre-hook: on an incremental build, choose each group's F and
   delete the rows that are recomputed; on a full build, compute everything. #}
{% macro kpi_record_days_before() %}
{%- set groups = kpi_record_groups() %}
{%- set windowed_kpis = [] %}
{%- for group in groups %}{% do windowed_kpis.extend(group.kpis) %}{% endfor %}
{%- if is_incremental() %}
{%- for group in groups %}
set variable qloop_kpi_from_{{ group.name }} = ({{ kpi_first_changed_day(group) }});
{%- endfor %}
delete from {{ this }}
where kpi_code not in {{ quoted_list(windowed_kpis) }}
{%- for group in groups %}
    or (kpi_code in {{ quoted_list(group.kpis) }}
        and (getvariable('qloop_kpi_from_{{ group.name }}') is null
             or activity_date >= getvariable('qloop_kpi_from_{{ group.name }}')))
{%- endfor %}
{%- else %}
{%- for group in groups %}
set variable qloop_kpi_from_{{ group.name }} = null{{ ';' if not loop.last }}
{%- endfor %}
{%- endif %}
{% endmacro %}


{# fct_kpi_drilldown's post-hook: this build's T and F per group are kept, the variables go. #}
{% macro kpi_record_days_after() %}
{%- for group in kpi_record_groups() %}
delete from {{ target.schema }}.qloop_kpi_windows where record_group = '{{ group.name }}';
insert into {{ target.schema }}.qloop_kpi_windows
select '{{ group.name }}', as_of_at, getvariable('qloop_kpi_from_{{ group.name }}'),
       {{ model_watermark(ref(group.model)) }}
from {{ ref('int_as_of') }};
set variable qloop_kpi_from_{{ group.name }} = null{{ ';' if not loop.last }}
{%- endfor %}
{% endmacro %}
