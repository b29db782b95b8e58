-- Breach signals of closed-loop.md section 1: one row per KPI x region x rule x period
-- where rule R1..R4 fires, on every complete period in the data. The Python detection step
-- turns them into issues (one active issue per KPI and region); here we only say which
-- periods breach, so that detection stays idempotent and the board can show the evidence.
-- R1-R3 on day rows of daily KPIs; R1 also on complete ISO weeks of daily KPIs and on
-- complete month rows of month KPIs (K06, K09); R4 on each daily KPI's last plotted point
-- (its latest complete day with data), from fct_kpi_control_chart.
-- Minimum volume (closed-loop.md): a low-volume day or month (denominator below the
-- catalog's min_volume) fires none of R1-R3, and a run of R2 or R3 skips it (it neither
-- starts, extends nor breaks one); a week fires R1 only when its summed denominator
-- reaches min_volume. R4 judges every plotted point.
-- Every rule judges the region's own target: `status`, `target` and
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

complete_week_values as (

    -- a complete ISO week: its Sunday is a complete day
    select kpi_values.*
    from scoped_values as kpi_values
    inner join kpi_complete_through
        on kpi_values.kpi_code = kpi_complete_through.kpi_code
    where
        kpi_complete_through.grain = 'day'
        and kpi_values.period_type = 'week'
        and kpi_values.period_start + 6 <= kpi_complete_through.complete_through

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

-- Runs of consecutive days for R2 and R3. A day without a row (no denominator) breaks a
-- run; a low-volume day is skipped: it is as if it were not there, and the days on either
-- side of it are consecutive. So the days are numbered per KPI and region within each
-- stretch without a missing day, the low-volume ones left out; within a run of days of
-- one status, the number minus the day's number among the days of that status is constant.

day_stretches as (

    select
        *,
        sum(case when period_start - previous_day = 1 then 0 else 1 end) over (
            partition by kpi_code, region_code order by period_start
        ) as stretch
    from (
        select
            *,
            lag(period_start) over (
                partition by kpi_code, region_code order by period_start
            ) as previous_day
        from day_values
    )

),

judged_days as (

    select
        *,
        row_number() over (
            partition by kpi_code, region_code, stretch order by period_start
        ) as judged_number
    from day_stretches
    where not low_volume

),

red_days as (

    select
        kpi_code,
        region_code,
        period_start,
        stretch,
        judged_number - row_number() over (
            partition by kpi_code, region_code, stretch order by period_start
        ) as run_anchor
    from judged_days
    where status = 'red'

),

red_streaks as (

    select
        kpi_code,
        region_code,
        period_start,
        cast(row_number() over (
            partition by kpi_code, region_code, stretch, run_anchor order by period_start
        ) as integer) as streak_days,
        first_value(period_start) over (
            partition by kpi_code, region_code, stretch, run_anchor order by period_start
        ) as streak_start
    from red_days

),

amber_or_red_days as (

    select
        kpi_code,
        region_code,
        period_start,
        stretch,
        judged_number - row_number() over (
            partition by kpi_code, region_code, stretch order by period_start
        ) as run_anchor
    from judged_days
    where status in ('amber', 'red')

),

amber_or_red_streaks as (

    select
        kpi_code,
        region_code,
        period_start,
        cast(row_number() over (
            partition by kpi_code, region_code, stretch, run_anchor order by period_start
        ) as integer) as streak_days,
        first_value(period_start) over (
            partition by kpi_code, region_code, stretch, run_anchor order by period_start
        ) as streak_start
    from amber_or_red_days

),

r1_day_signals as (

    select
        *,
        'R1' as rule,
        cast(null as integer) as streak_days,
        'red day' as detail
    from day_values
    where status = 'red' and not low_volume

),

r1_week_signals as (

    select
        *,
        'R1' as rule,
        cast(null as integer) as streak_days,
        'red week ' || cast(period_start as varchar) || '..'
            || cast(period_start + 6 as varchar) as detail
    from complete_week_values
    where status = 'red' and not low_volume

),

r1_month_signals as (

    select
        *,
        'R1' as rule,
        cast(null as integer) as streak_days,
        'red month' as detail
    from complete_month_values
    where status = 'red' and not low_volume

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
                        || cast(red_streaks.streak_start as varchar)
                        || '..' || cast(day_values.period_start as varchar)
                        || {{ skipped_days_note('red_streaks') }}
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
            || cast(amber_or_red_streaks.streak_start as varchar)
            || '..' || cast(day_values.period_start as varchar)
            || {{ skipped_days_note('amber_or_red_streaks') }} as detail
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

    -- the chart only has days with data, so its last row is the last plotted point (the
    -- latest complete day with data, which need not be the day before T) and its last 8
    -- rows are the last 8 points
    select
        kpi_code,
        region_code,
        max(day) as last_plotted_day,
        any_value(direction) as direction,
        coalesce(bool_or(points_back = 1 and beyond_limit_bad_side), false)
            as last_point_beyond_limit,
        count(*) = 8 and bool_and(bad_side_of_centre) as eight_on_bad_side
    from chart_points_from_latest
    where points_back <= 8
    group by 1, 2

),

r4_signals as (

    -- evaluated at the last plotted point; status and value are that day's
    select
        'day' as period_type,
        r4_evaluations.last_plotted_day as period_start,
        r4_evaluations.kpi_code,
        r4_evaluations.region_code,
        day_values.numerator,
        day_values.denominator,
        day_values.value,
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
        and r4_evaluations.last_plotted_day = day_values.period_start
    left join scope_targets
        on r4_evaluations.kpi_code = scope_targets.kpi_code
        and r4_evaluations.region_code = scope_targets.region_code
        and r4_evaluations.region_code = scope_targets.scope_value
        and r4_evaluations.last_plotted_day >= scope_targets.valid_from
        and r4_evaluations.last_plotted_day < scope_targets.valid_to
    where r4_evaluations.last_point_beyond_limit or r4_evaluations.eight_on_bad_side

),

all_signals as (

    {% for signals in ['r1_day_signals', 'r1_week_signals', 'r1_month_signals', 'r2_signals', 'r3_signals', 'r4_signals'] -%}
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
