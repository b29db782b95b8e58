{#
  The days an incremental build of fct_kpi_drilldown computes again (docs/incremental.md).

  Nine in ten KPI records are calls (K02-K04), store queue tickets (K01) or speed tests
  (K15), and a day's delivery holds the calls, tickets and tests of its day: finished
  records, not ones updated for weeks. So a build keeps each of these groups' rows of the
  days before its window and computes the group from the window's first day F on; every
  other KPI (work orders, complaints, refunds change for weeks) it computes in full.

  F of a group is the first day whose rows may differ from the last build's. The last build
  is read from fct_kpi_drilldown itself: the newest delivery it was built through
  (max(_loaded_through)) and its T (max(_as_of_at)); every build rewrites the KPIs it
  computes in full, so their rows always carry the last build's. F is the earliest of:
  - the days every version of a record of the group's new deliveries counts in: the staging
    model holds each version of a delivery in force (the last build's version too);
  - for K04, the day of each earlier call of the same caller whose 72 h window holds such a
    record's queue entry (it may be, or stop being, its repeat), and the day of each call
    whose 72 h window closed between the last build's T and this one's;
  - the last build's T: the days before T are reported, so T's move adds days.
  The whole group (no F) when there is no last build, a reference file came since (rule 4,
  the drill-down attributes), or a delivery of the group's entity replaced one in force
  since (its earlier rows, the versions the last build counted, are no longer staged).
#}

{# The windowed groups: the entity whose records their KPIs count (kpi_attributes.records_from)
   and whose deliveries move their window, and the CTE of kpi_windows() with the moments
   their changed records count at. #}
{% macro kpi_window_groups() -%}
{{- return({
    'calls': {'entity': 'cc_call', 'days': 'call_days'},
    'queue_tickets': {'entity': 'crm_queue_ticket', 'days': 'queue_ticket_days'},
    'speed_tests': {'entity': 'net_speed_test', 'days': 'speed_test_days'},
}) -}}
{%- endmacro %}


{# Every record of every group (a full build). #}
{% macro kpi_windows_all() -%}
{%- set windows = {} -%}
{%- for group in kpi_window_groups() %}{% do windows.update({group: "timestamp '-infinity'"}) %}{% endfor -%}
{{- return(windows) -}}
{%- endmacro %}


{# group -> the timestamp literal its window starts at, for this build of fct_kpi_drilldown.
   Read with run_query, so that the pre-hook's delete and the model's select, both rendered
   before the delete runs, use the same windows. #}
{% macro kpi_windows() -%}
{%- set query -%}
with built as (

    select max(_loaded_through) as loaded_through, max(_as_of_at) as as_of_at from {{ this }}

),

as_of as (

    select as_of_at from {{ ref('int_as_of') }}

),

new_files as (

    select file_name from {{ source('raw', 'raw_files') }}
    where loaded_at > (select loaded_through from built)

),

whole_groups as (

    select entity from {{ source('raw', 'raw_deliveries') }}
    where outcome = 'replaced' and seen_at > (select loaded_through from built)
    union all
    select 'reference' from {{ source('raw', 'raw_files') }}
    where kind = 'reference' and loaded_at > (select loaded_through from built)

),

-- the days between the two T's: every group from the earlier one on
as_of_moves as (

    select
        least(built.as_of_at, as_of.as_of_at) as earlier_at,
        greatest(built.as_of_at, as_of.as_of_at) as later_at
    from built
    cross join as_of

),

call_versions as (

    select caller_id, queue_entered_at, answered_at from {{ ref('stg_cc__calls') }}
    where call_id in (select call_id from {{ ref('stg_cc__calls') }}
                      where _file in (select file_name from new_files))

),

call_days as (

    select least(queue_entered_at, answered_at) as counted_at from call_versions
    union all
    select earlier.answered_at
    from {{ ref('int_calls') }} as earlier
    inner join call_versions as changed
        on earlier.caller_id = changed.caller_id
    where changed.caller_id <> ''
        and earlier.ended_at < changed.queue_entered_at
        and earlier.ended_at + interval 72 hour >= changed.queue_entered_at
    union all
    select calls.answered_at
    from {{ ref('int_calls') }} as calls
    cross join as_of_moves
    where calls.ended_at + interval 72 hour > as_of_moves.earlier_at
        and calls.ended_at + interval 72 hour <= as_of_moves.later_at

),

queue_ticket_days as (

    select taken_at as counted_at from {{ ref('stg_crm__queue_tickets') }}
    where ticket_id in (select ticket_id from {{ ref('stg_crm__queue_tickets') }}
                        where _file in (select file_name from new_files))

),

speed_test_days as (

    select tested_at as counted_at from {{ ref('stg_net__speed_tests') }}
    where test_id in (select test_id from {{ ref('stg_net__speed_tests') }}
                      where _file in (select file_name from new_files))

)

select
{%- for group, spec in kpi_window_groups().items() %}
    case
        when (select loaded_through from built) is null
            or exists (select 1 from whole_groups where entity in ('{{ spec.entity }}', 'reference'))
            then null
        else least(
            (select cast(min(counted_at) as date) from {{ spec.days }}),
            (select cast(earlier_at as date) from as_of_moves)
        )
    end as {{ group }}{{ ',' if not loop.last }}
{%- endfor %}
{%- endset -%}
{%- if not execute or not is_incremental() -%}
{{- return(kpi_windows_all()) -}}
{%- endif -%}
{%- set first_days = run_query(query).rows[0] -%}
{%- set windows = {} -%}
{%- for group in kpi_window_groups() -%}
{%- set day = first_days[group] -%}
{%- do windows.update({group: "timestamp '-infinity'" if day is none else "timestamp '" ~ day ~ "'"}) -%}
{%- endfor -%}
{{- return(windows) -}}
{%- endmacro %}


{# fct_kpi_drilldown's pre-hook: the rows this build computes again go (every KPI's that is
   computed in full, each windowed group's from its window on). A group's KPIs are those
   counting its entity's records (kpi_attributes). #}
{% macro delete_kpi_windows() -%}
{%- set windows = kpi_windows() -%}
{%- set entities = [] -%}
{%- for spec in kpi_window_groups().values() %}{% do entities.append(spec.entity) %}{% endfor -%}
delete from {{ this }}
where kpi_code not in (select kpi_code from {{ ref('kpi_attributes') }}
                       where records_from in ('{{ entities | join("', '") }}'))
{%- for group, spec in kpi_window_groups().items() %}
    or (kpi_code in (select kpi_code from {{ ref('kpi_attributes') }}
                     where records_from = '{{ spec.entity }}')
        and activity_date >= {{ windows[group] }})
{%- endfor %}
{%- endmacro %}
