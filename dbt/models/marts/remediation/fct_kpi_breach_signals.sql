-- Breach signals of closed-loop.md section 1: one row per KPI x region x rule x period
-- where rule R1..R4 fires, on every complete period in the data. The Python detection step
-- turns them into issues (one active issue per KPI and region); here we only say which
-- periods breach, so that detection stays idempotent and the board can show the evidence.
-- R1-R3 on day rows of daily KPIs; R1 also on complete month rows of month KPIs (K06, K09);
-- R4 only at each daily KPI's latest complete day, from fct_kpi_control_chart.
-- Every rule judges the region's own target (issue 7): `status`, `target` and
-- `red_threshold` here are fct_kpi_values' scope_status / scope_target /
-- scope_red_threshold (a city override in force, else the catalog's); the catalog's are
-- kept beside them (catalog_target, catalog_red_threshold, catalog_status).

with kpi_values as (

    select * from {{ ref('fct_kpi_values') }}

),

kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

control_chart as (

    select * from {{ ref('fct_kpi_control_chart') }}

),

kpi_complete_through as (

    select * from {{ ref('int_kpi_complete_through') }}

),

as_of as (

    select as_of_at from {{ ref('int_as_of') }}

),

scoped_values as (

    -- the region's own target replaces the catalog's for every rule below
    select
        * exclude (target, red_threshold, status),
        target as catalog_target,
        red_threshold as catalog_red_threshold,
        status as catalog_status,
        scope_target as target,
        scope_red_threshold as red_threshold,
        scope_status as status
    from kpi_values

),

scope_targets as (

    select * from {{ ref('int_kpi_scope_targets') }}
    where scope_type = 'city'

),

day_values as (

    -- complete days only (int_kpi_complete_through has the rule and K04's lag)
    select kpi_values.*
    from scoped_values as kpi_values
    inner join kpi_complete_through
        on kpi_values.kpi_code = kpi_complete_through.kpi_code
    where
        kpi_complete_through.grain = 'day'
        and kpi_values.period_type = 'day'
        and kpi_values.period_start <= kpi_complete_through.complete_through

),

complete_month_values as (

    -- a month is complete once its last day is a complete day (before T)
    select kpi_values.*
    from scoped_values as kpi_values
    inner join kpi_complete_through
        on kpi_values.kpi_code = kpi_complete_through.kpi_code
    where
        kpi_complete_through.grain = 'month'
        and kpi_values.period_type = 'month'
        and last_day(kpi_values.period_start) <= kpi_complete_through.complete_through

),

-- Runs of consecutive calendar days: within a run, day minus its row number among the
-- qualifying days is constant. A missing day, or a day with another status (no_data
-- included), is not a qualifying day and so starts a new run.

red_days as (

    select
        kpi_code,
        region_code,
        period_start,
        period_start - cast(row_number() over (
            partition by kpi_code, region_code order by period_start
        ) as integer) as run_anchor
    from day_values
    where status = 'red'

),

red_streaks as (

    select
        kpi_code,
        region_code,
        period_start,
        cast(row_number() over (
            partition by kpi_code, region_code, run_anchor order by period_start
        ) as integer) as streak_days
    from red_days

),

amber_or_red_days as (

    select
        kpi_code,
        region_code,
        period_start,
        period_start - cast(row_number() over (
            partition by kpi_code, region_code order by period_start
        ) as integer) as run_anchor
    from day_values
    where status in ('amber', 'red')

),

amber_or_red_streaks as (

    select
        kpi_code,
        region_code,
        period_start,
        cast(row_number() over (
            partition by kpi_code, region_code, run_anchor order by period_start
        ) as integer) as streak_days
    from amber_or_red_days

),

r1_day_signals as (

    select
        *,
        'R1' as rule,
        cast(null as integer) as streak_days,
        'red day' as detail
    from day_values
    where status = 'red'

),

r1_month_signals as (

    select
        *,
        'R1' as rule,
        cast(null as integer) as streak_days,
        'red month' as detail
    from complete_month_values
    where status = 'red'

),

r2_signals as (

    select
        day_values.*,
        'R2' as rule,
        red_streaks.streak_days,
        concat_ws(
            '; ',
            case when day_values.region_code = 'JS' then 'province red' end,
            case
                when red_streaks.streak_days >= 3
                    then 'red ' || red_streaks.streak_days || ' consecutive days '
                        || cast(day_values.period_start - (red_streaks.streak_days - 1) as varchar)
                        || '..' || cast(day_values.period_start as varchar)
            end
        ) as detail
    from day_values
    inner join red_streaks
        on day_values.kpi_code = red_streaks.kpi_code
        and day_values.region_code = red_streaks.region_code
        and day_values.period_start = red_streaks.period_start
    where red_streaks.streak_days >= 3 or day_values.region_code = 'JS'

),

r3_signals as (

    select
        day_values.*,
        'R3' as rule,
        amber_or_red_streaks.streak_days,
        'amber or red ' || amber_or_red_streaks.streak_days || ' consecutive days '
            || cast(day_values.period_start - (amber_or_red_streaks.streak_days - 1) as varchar)
            || '..' || cast(day_values.period_start as varchar) as detail
    from day_values
    inner join amber_or_red_streaks
        on day_values.kpi_code = amber_or_red_streaks.kpi_code
        and day_values.region_code = amber_or_red_streaks.region_code
        and day_values.period_start = amber_or_red_streaks.period_start
    where amber_or_red_streaks.streak_days >= 5

),

chart_points_from_latest as (

    select
        *,
        row_number() over (
            partition by kpi_code, region_code order by day desc
        ) as points_back
    from control_chart

),

r4_evaluations as (

    -- the chart only has days with data, so the last 8 rows are the last 8 points
    select
        kpi_code,
        region_code,
        any_value(latest_day) as latest_day,
        any_value(direction) as direction,
        coalesce(bool_or(day = latest_day and beyond_limit_bad_side), false)
            as last_point_beyond_limit,
        count(*) = 8 and bool_and(bad_side_of_centre) as eight_on_bad_side
    from chart_points_from_latest
    where points_back <= 8
    group by 1, 2

),

r4_signals as (

    -- evaluated at D; status and value are D's (null when D itself has no value)
    select
        'day' as period_type,
        r4_evaluations.latest_day as period_start,
        r4_evaluations.kpi_code,
        r4_evaluations.region_code,
        day_values.numerator,
        day_values.denominator,
        day_values.value,
        -- D's own target even when D has no value row
        scope_targets.target,
        scope_targets.red_threshold,
        day_values.status,
        kpi_catalog.target as catalog_target,
        kpi_catalog.red_threshold as catalog_red_threshold,
        day_values.catalog_status,
        'R4' as rule,
        cast(null as integer) as streak_days,
        concat_ws(
            '; ',
            case
                when r4_evaluations.last_point_beyond_limit
                    then 'beyond '
                        || case when r4_evaluations.direction = 'up' then 'lower' else 'upper' end
                        || ' 3-sigma limit'
            end,
            case
                when r4_evaluations.eight_on_bad_side
                    then '8 points '
                        || case when r4_evaluations.direction = 'up' then 'below' else 'above' end
                        || ' centre line'
            end
        ) as detail
    from r4_evaluations
    inner join kpi_catalog
        on r4_evaluations.kpi_code = kpi_catalog.kpi_code
    left join day_values
        on r4_evaluations.kpi_code = day_values.kpi_code
        and r4_evaluations.region_code = day_values.region_code
        and r4_evaluations.latest_day = day_values.period_start
    left join scope_targets
        on r4_evaluations.kpi_code = scope_targets.kpi_code
        and r4_evaluations.region_code = scope_targets.region_code
        and r4_evaluations.region_code = scope_targets.scope_value
        and r4_evaluations.latest_day >= scope_targets.valid_from
        and r4_evaluations.latest_day < scope_targets.valid_to
    where r4_evaluations.last_point_beyond_limit or r4_evaluations.eight_on_bad_side

),

all_signals as (

    {% for signals in ['r1_day_signals', 'r1_month_signals', 'r2_signals', 'r3_signals', 'r4_signals'] -%}
    select
        kpi_code, region_code, rule, period_type, period_start, status, value,
        numerator, denominator, target, red_threshold, catalog_target, catalog_red_threshold,
        catalog_status, streak_days, detail
    from {{ signals }}
    {% if not loop.last %}union all
    {% endif -%}
    {% endfor %}
),

final as (

    select
        all_signals.kpi_code,
        all_signals.region_code,
        all_signals.rule,
        case all_signals.rule
            when 'R1' then 'P2'
            when 'R2' then 'P1'
            else 'P3'
        end as severity,
        all_signals.period_type,
        all_signals.period_start,
        all_signals.status,
        all_signals.value,
        all_signals.numerator,
        all_signals.denominator,
        all_signals.target,
        all_signals.red_threshold,
        all_signals.catalog_target,
        all_signals.catalog_red_threshold,
        all_signals.catalog_status,
        all_signals.streak_days,
        all_signals.detail,
        as_of.as_of_at
    from all_signals
    cross join as_of

)

select * from final
