-- The Laney p' chart of closed-loop.md section 1, rule R4: for each daily KPI x region
-- (cities and JS), the last 8 weeks up to the KPI's latest complete day D. Centre line and
-- limits come from the 28 days before the last 7 (D-34..D-7), so the week being judged
-- does not pull its own limits towards itself. Daily denominators are large (thousands of
-- calls or tickets), so plain p-chart limits would flag ordinary day-to-day variation;
-- Laney's sigma_z widens them by the observed spread of the standardised points.

with kpi_values as (

    select * from {{ ref('fct_kpi_values') }}

),

kpi_complete_through as (

    select * from {{ ref('int_kpi_complete_through') }}

),

daily_kpis as (

    -- D: the KPI's latest complete day (int_kpi_complete_through has the rule and K04's lag)
    select
        kpi_code,
        direction,
        complete_through as latest_day,
        as_of_at
    from kpi_complete_through
    where grain = 'day'

),

chart_days as (

    select
        kpi_values.kpi_code,
        kpi_values.region_code,
        kpi_values.period_start as day,
        kpi_values.numerator,
        kpi_values.denominator,
        -- scale is 1 for every daily KPI: p is the plain proportion
        cast(kpi_values.numerator as double) / kpi_values.denominator as p,
        daily_kpis.direction,
        daily_kpis.latest_day,
        kpi_values.period_start between daily_kpis.latest_day - 34
            and daily_kpis.latest_day - 7 as in_baseline,
        kpi_values.period_start > daily_kpis.latest_day - 7 as in_last_week,
        daily_kpis.as_of_at
    from kpi_values
    inner join daily_kpis
        on kpi_values.kpi_code = daily_kpis.kpi_code
    where
        kpi_values.period_type = 'day'
        -- a day without denominator has no point to plot
        and kpi_values.denominator > 0
        and kpi_values.period_start between daily_kpis.latest_day - 55
            and daily_kpis.latest_day

),

centre_lines as (

    -- ratio of sums, never an average of daily rates (kpi-catalog.md common rules)
    select
        kpi_code,
        region_code,
        cast(sum(numerator) as double) / sum(denominator) as centre
    from chart_days
    where in_baseline
    group by 1, 2

),

baseline_z as (

    -- p-bar of 0 or 1 has no binomial spread: no z, hence no sigma_z and no limits
    select
        chart_days.kpi_code,
        chart_days.region_code,
        chart_days.day,
        (chart_days.p - centre_lines.centre)
            / sqrt(centre_lines.centre * (1 - centre_lines.centre) / chart_days.denominator)
            as z
    from chart_days
    inner join centre_lines
        on chart_days.kpi_code = centre_lines.kpi_code
        and chart_days.region_code = centre_lines.region_code
    where
        chart_days.in_baseline
        and centre_lines.centre > 0
        and centre_lines.centre < 1

),

moving_ranges as (

    -- consecutive baseline points with data, in date order (the first one has none)
    select
        kpi_code,
        region_code,
        abs(z - lag(z) over (partition by kpi_code, region_code order by day)) as moving_range
    from baseline_z

),

laney_sigmas as (

    -- 1.128 = d2 for ranges of 2 points; avg() skips the first point's null range, so a
    -- single baseline point gives null sigma_z (no limits)
    select
        kpi_code,
        region_code,
        avg(moving_range) / 1.128 as sigma_z
    from moving_ranges
    group by 1, 2

),

unbounded_limits as (

    select
        chart_days.*,
        centre_lines.centre,
        laney_sigmas.sigma_z,
        -- the binomial sigma of this day's own denominator, widened by sigma_z
        centre_lines.centre
            + 3 * sqrt(centre_lines.centre * (1 - centre_lines.centre) / chart_days.denominator)
            * laney_sigmas.sigma_z as unbounded_ucl,
        centre_lines.centre
            - 3 * sqrt(centre_lines.centre * (1 - centre_lines.centre) / chart_days.denominator)
            * laney_sigmas.sigma_z as unbounded_lcl
    from chart_days
    left join centre_lines
        on chart_days.kpi_code = centre_lines.kpi_code
        and chart_days.region_code = centre_lines.region_code
    left join laney_sigmas
        on chart_days.kpi_code = laney_sigmas.kpi_code
        and chart_days.region_code = laney_sigmas.region_code

),

limits as (

    -- a proportion lies in [0, 1]; least() / greatest() skip nulls in DuckDB, so the
    -- null limits (no sigma_z) are kept null explicitly
    select
        *,
        case when unbounded_ucl is not null then least(1, unbounded_ucl) end as ucl,
        case when unbounded_lcl is not null then greatest(0, unbounded_lcl) end as lcl
    from unbounded_limits

),

final as (

    select
        limits.kpi_code,
        limits.region_code,
        limits.day,
        limits.numerator,
        limits.denominator,
        limits.p,
        limits.centre,
        limits.sigma_z,
        limits.ucl,
        limits.lcl,
        limits.in_baseline,
        limits.in_last_week,
        -- bad side: below for higher-is-better KPIs, above for lower-is-better ones;
        -- null limits or centre give no signal
        coalesce(
            case
                when limits.direction = 'up' then limits.p < limits.lcl
                else limits.p > limits.ucl
            end,
            false
        ) as beyond_limit_bad_side,
        coalesce(
            case
                when limits.direction = 'up' then limits.p < limits.centre
                else limits.p > limits.centre
            end,
            false
        ) as bad_side_of_centre,
        limits.direction,
        limits.latest_day,
        limits.as_of_at
    from limits

)

select * from final
