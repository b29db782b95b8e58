-- Every KPI value the warehouse knows as of T: period (day / ISO week / month) x KPI x
-- region (city, or JS = the sum of the city rows that exist). Ratios are always
-- sum(numerator) / sum(denominator) of the finer rows, never averages of rates.
-- Daily KPIs: day rows (days before T) and their week and month sums. Month KPIs (K06,
-- K09): month rows only, existing when the month has a denominator row for the city.
-- Targets, thresholds, direction and scale come only from the seed kpi_catalog; beside
-- them scope_target / scope_red_threshold / scope_status judge the row against the target
-- of its region (int_kpi_scope_targets, scope city: a city override, else the catalog; JS
-- always the catalog). A day row uses the version in force on that day; a week or month
-- row the version in force on its last reported day (the period's last day, or T - 1 day
-- for a period still running). Detection and verification read the scope columns; the
-- group snapshot reads the catalog's (status). `low_volume`: the row's denominator is below
-- the catalog's min_volume, so detection does not judge it (closed-loop.md, "Minimum
-- volume"); the value and status are reported as usual.

with kpi_daily as (

    select * from {{ ref('fct_kpi_daily') }}

),

drilldown as (

    select * from {{ ref('fct_kpi_drilldown') }}

),

kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

scope_targets as (

    select * from {{ ref('int_kpi_scope_targets') }}
    where scope_type = 'city'

),

as_of as (

    select as_of_at, as_of_date from {{ ref('int_as_of') }}

),

daily_kpi_codes as (

    select kpi_code from kpi_catalog where grain = 'day'

),

monthly_kpi_codes as (

    select kpi_code from kpi_catalog where grain = 'month'

),

city_day as (

    select
        'day' as period_type,
        activity_date as period_start,
        kpi_code,
        city_code as region_code,
        numerator,
        denominator
    from kpi_daily
    where kpi_code in (select kpi_code from daily_kpi_codes)

),

city_week as (

    select
        'week' as period_type,
        cast(date_trunc('week', period_start) as date) as period_start,
        kpi_code,
        region_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from city_day
    group by 1, 2, 3, 4

),

city_month_of_days as (

    select
        'month' as period_type,
        cast(date_trunc('month', period_start) as date) as period_start,
        kpi_code,
        region_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from city_day
    group by 1, 2, 3, 4

),

city_month_of_month_kpis as (

    select
        'month' as period_type,
        cast(date_trunc('month', activity_date) as date) as period_start,
        kpi_code,
        city_code as region_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from drilldown
    where kpi_code in (select kpi_code from monthly_kpi_codes)
    group by 1, 2, 3, 4
    -- the month row exists only when the month's denominator file has a row for the city
    having bool_or(counts_as_row)

),

city_rows as (

    select * from city_day
    union all
    select * from city_week
    union all
    select * from city_month_of_days
    union all
    select * from city_month_of_month_kpis

),

province_rows as (

    select
        period_type,
        period_start,
        kpi_code,
        'JS' as region_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from city_rows
    group by 1, 2, 3

),

all_rows as (

    select * from city_rows
    union all
    select * from province_rows

),

judged_rows as (

    select
        all_rows.*,
        case all_rows.period_type
            when 'day' then all_rows.period_start
            when 'week' then least(all_rows.period_start + 6, as_of.as_of_date - 1)
            else least(last_day(all_rows.period_start), as_of.as_of_date - 1)
        end as last_reported_day
    from all_rows
    cross join as_of

),

final as (

    select
        all_rows.period_type,
        all_rows.period_start,
        all_rows.kpi_code,
        all_rows.region_code,
        cast(all_rows.numerator as bigint) as numerator,
        cast(all_rows.denominator as bigint) as denominator,
        case
            when all_rows.denominator <> 0
                then cast(all_rows.numerator as double) * kpi_catalog.scale
                    / cast(all_rows.denominator as double)
        end as value,
        {{ kpi_value_text('all_rows.numerator', 'all_rows.denominator', 'kpi_catalog.scale') }}
            as value_text,
        kpi_catalog.target,
        kpi_catalog.red_threshold,
        kpi_catalog.direction,
        kpi_catalog.scale,
        {{ kpi_status(
            'all_rows.numerator', 'all_rows.denominator', 'kpi_catalog.scale',
            'kpi_catalog.target', 'kpi_catalog.red_threshold', 'kpi_catalog.direction'
        ) }} as status,
        scope_targets.target as scope_target,
        scope_targets.red_threshold as scope_red_threshold,
        {{ kpi_status(
            'all_rows.numerator', 'all_rows.denominator', 'kpi_catalog.scale',
            'scope_targets.target', 'scope_targets.red_threshold', 'kpi_catalog.direction'
        ) }} as scope_status,
        scope_targets.target_source as scope_target_source,
        kpi_catalog.min_volume,
        -- reported and judged as usual, but too small to fire R1-R3 (closed-loop.md,
        -- "Minimum volume")
        all_rows.denominator < kpi_catalog.min_volume as low_volume,
        as_of.as_of_at
    from judged_rows as all_rows
    inner join kpi_catalog
        on all_rows.kpi_code = kpi_catalog.kpi_code
    cross join as_of
    left join scope_targets
        on all_rows.kpi_code = scope_targets.kpi_code
        and all_rows.region_code = scope_targets.region_code
        and all_rows.region_code = scope_targets.scope_value
        -- a month KPI's month row starting after T still takes its first day's version
        and greatest(all_rows.period_start, all_rows.last_reported_day) >= scope_targets.valid_from
        and greatest(all_rows.period_start, all_rows.last_reported_day) < scope_targets.valid_to

)

select * from final
