-- Post-evaluation of launched changes (后评估): for each change with
-- state = 'launched' and a launch day L, every KPI x region of its scope, the KPI over the
-- N days before L against the N days after L (N = var post_evaluation_window_days):
--   before = [L - N, L - 1], after = [L + 1, L + N]; the launch day itself is in neither
--   (it mixes hours before and after the switch-over; docs/decisions.md).
-- Windows are sums of numerators and denominators of the day x city facts, never averages
-- of daily rates; the province (JS) sums every city, as fct_kpi_values does.
--   ratio KPIs: numerator / denominator, two-proportion z-test with the pooled proportion.
--   per-10k KPIs (K06, K09, monthly in the catalog): events of the window's days over the
--     window's exposure = sum over its days of (the month's denominator / days in that
--     month), in subscriber-months (bill-months); value = events x 10000 / exposure, i.e.
--     a monthly-equivalent rate per 10k, comparable with the catalog's monthly value.
--     Only city-months with a denominator row count (as in fct_kpi_values). Test: the
--     conditional Poisson test of equal rates (given n = events before + after, events
--     after ~ Binomial(n, exposure after / total exposure)), in its normal (score) form.
-- z > 0 means the KPI went up. Two-sided p-value (macro normal_two_sided_p); significant
-- when p < var post_evaluation_significance. Verdict:
--   pending   the after window is not complete (L + N > the KPI's complete_through; K04 has
--             its lag there), or a per-10k window touches a month without its denominator;
--   no_data   a window has no denominator (nothing to compare);
--   improved / worse  significant, in the good / bad direction of the catalog's `direction`;
--   no_change otherwise.

{%- set window_days = var('post_evaluation_window_days') %}
{%- set significance = var('post_evaluation_significance') %}
{%- if window_days | int < 1 %}
    {{ exceptions.raise_compiler_error(
        "var post_evaluation_window_days must be a whole number of days >= 1, got "
        ~ window_days) }}
{%- endif %}
{%- if not (0 < significance | float < 1) %}
    {{ exceptions.raise_compiler_error(
        "var post_evaluation_significance must be between 0 and 1, got " ~ significance) }}
{%- endif %}

with changes as (

    select * from {{ ref('stg_remediation__changes') }}

),

change_scopes as (

    select * from {{ ref('stg_remediation__change_scopes') }}

),

kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

complete_through as (

    select * from {{ ref('int_kpi_complete_through') }}

),

kpi_daily as (

    select * from {{ ref('fct_kpi_daily') }}

),

drilldown as (

    select * from {{ ref('fct_kpi_drilldown') }}

),

launched_scopes as (

    select
        changes.change_id,
        changes.title,
        changes.change_type,
        changes.owner_department,
        changes.launched_on,
        change_scopes.kpi_code,
        change_scopes.region_code,
        kpi_catalog.unit,
        kpi_catalog.scale,
        kpi_catalog.direction,
        {{ window_days | int }} as window_days,
        changes.launched_on - {{ window_days | int }} as before_start,
        changes.launched_on - 1 as before_end,
        changes.launched_on + 1 as after_start,
        changes.launched_on + {{ window_days | int }} as after_end
    from changes
    inner join change_scopes
        on changes.change_id = change_scopes.change_id
    inner join kpi_catalog
        on change_scopes.kpi_code = kpi_catalog.kpi_code
    where changes.state = 'launched'
        and changes.launched_on is not null

),

-- one row per scope and window, so both windows are summed by the same statements
scope_windows as (

    select *, 'before' as window_name, before_start as window_start, before_end as window_end
    from launched_scopes
    union all
    select *, 'after' as window_name, after_start as window_start, after_end as window_end
    from launched_scopes

),

-- ratio KPIs ------------------------------------------------------------------------------
ratio_windows as (

    select
        scope_windows.change_id,
        scope_windows.kpi_code,
        scope_windows.region_code,
        scope_windows.window_name,
        cast(coalesce(sum(kpi_daily.numerator), 0) as double) as numerator,
        cast(coalesce(sum(kpi_daily.denominator), 0) as double) as denominator,
        true as denominators_known
    from scope_windows
    left join kpi_daily
        on scope_windows.kpi_code = kpi_daily.kpi_code
        and (scope_windows.region_code = 'JS' or scope_windows.region_code = kpi_daily.city_code)
        and kpi_daily.activity_date between scope_windows.window_start and scope_windows.window_end
    where scope_windows.unit = 'ratio'
    group by all

),

-- per-10k KPIs ----------------------------------------------------------------------------
-- a city-month's denominator (subscribers, bills); the row exists only when the month's
-- file has the city (counts_as_row), exactly the month rows of fct_kpi_values
month_denominators as (

    select
        kpi_code,
        city_code,
        cast(date_trunc('month', activity_date) as date) as month_start,
        last_day(activity_date) as month_end,
        sum(denominator) as denominator
    from drilldown
    where kpi_code in (select kpi_code from kpi_catalog where unit = 'per_10k')
    group by all
    having bool_or(counts_as_row)

),

-- events per day and city, only in city-months that have a denominator
day_events as (

    select
        drilldown.kpi_code,
        drilldown.city_code,
        drilldown.activity_date,
        sum(drilldown.numerator) as events
    from drilldown
    inner join month_denominators
        on drilldown.kpi_code = month_denominators.kpi_code
        and drilldown.city_code = month_denominators.city_code
        and drilldown.activity_date between month_denominators.month_start
            and month_denominators.month_end
    where drilldown.numerator <> 0
    group by all

),

per_10k_exposure as (

    select
        scope_windows.change_id,
        scope_windows.kpi_code,
        scope_windows.region_code,
        scope_windows.window_name,
        -- each month's denominator, prorated to the days of the window in that month
        coalesce(sum(
            month_denominators.denominator
            * (least(scope_windows.window_end, month_denominators.month_end)
                - greatest(scope_windows.window_start, month_denominators.month_start) + 1)
            / day(month_denominators.month_end)
        ), 0) as exposure,
        -- complete when every month the window touches has a denominator for the region
        count(distinct month_denominators.month_start)
            = datediff('month', any_value(scope_windows.window_start),
                       any_value(scope_windows.window_end)) + 1 as denominators_known
    from scope_windows
    left join month_denominators
        on scope_windows.kpi_code = month_denominators.kpi_code
        and (scope_windows.region_code = 'JS'
            or scope_windows.region_code = month_denominators.city_code)
        and month_denominators.month_start <= scope_windows.window_end
        and month_denominators.month_end >= scope_windows.window_start
    where scope_windows.unit = 'per_10k'
    group by all

),

per_10k_events as (

    select
        scope_windows.change_id,
        scope_windows.kpi_code,
        scope_windows.region_code,
        scope_windows.window_name,
        coalesce(sum(day_events.events), 0) as events
    from scope_windows
    left join day_events
        on scope_windows.kpi_code = day_events.kpi_code
        and (scope_windows.region_code = 'JS' or scope_windows.region_code = day_events.city_code)
        and day_events.activity_date between scope_windows.window_start
            and scope_windows.window_end
    where scope_windows.unit = 'per_10k'
    group by all

),

per_10k_windows as (

    select
        per_10k_exposure.change_id,
        per_10k_exposure.kpi_code,
        per_10k_exposure.region_code,
        per_10k_exposure.window_name,
        cast(per_10k_events.events as double) as numerator,
        cast(per_10k_exposure.exposure as double) as denominator,
        per_10k_exposure.denominators_known
    from per_10k_exposure
    inner join per_10k_events
        on per_10k_exposure.change_id = per_10k_events.change_id
        and per_10k_exposure.kpi_code = per_10k_events.kpi_code
        and per_10k_exposure.region_code = per_10k_events.region_code
        and per_10k_exposure.window_name = per_10k_events.window_name

),

window_sums as (

    select * from ratio_windows
    union all
    select * from per_10k_windows

),

-- both windows side by side ---------------------------------------------------------------
paired as (

    select
        launched_scopes.*,
        before_w.numerator as before_numerator,
        before_w.denominator as before_denominator,
        after_w.numerator as after_numerator,
        after_w.denominator as after_denominator,
        before_w.denominators_known and after_w.denominators_known as denominators_known,
        complete_through.complete_through,
        -- the after window is complete once its last day is (K04: lag included)
        coalesce(launched_scopes.after_end <= complete_through.complete_through, false)
            as after_window_complete
    from launched_scopes
    inner join window_sums as before_w
        on launched_scopes.change_id = before_w.change_id
        and launched_scopes.kpi_code = before_w.kpi_code
        and launched_scopes.region_code = before_w.region_code
        and before_w.window_name = 'before'
    inner join window_sums as after_w
        on launched_scopes.change_id = after_w.change_id
        and launched_scopes.kpi_code = after_w.kpi_code
        and launched_scopes.region_code = after_w.region_code
        and after_w.window_name = 'after'
    left join complete_through
        on launched_scopes.kpi_code = complete_through.kpi_code

),

tested as (

    select
        *,
        case when before_denominator > 0
            then before_numerator * scale / before_denominator end as before_value,
        case when after_denominator > 0
            then after_numerator * scale / after_denominator end as after_value,
        case
            when before_denominator <= 0 or after_denominator <= 0 then null
            -- ratio: (p_after - p_before) / sqrt(p (1 - p) (1/n_before + 1/n_after)), p pooled
            when unit = 'ratio' then
                case
                    -- all 0 or all 1 in both windows: no variance and no difference
                    when before_numerator + after_numerator in (0, before_denominator + after_denominator)
                        then 0.0
                    else (after_numerator / after_denominator - before_numerator / before_denominator)
                        / sqrt(
                            (before_numerator + after_numerator) / (before_denominator + after_denominator)
                            * (1 - (before_numerator + after_numerator) / (before_denominator + after_denominator))
                            * (1 / before_denominator + 1 / after_denominator))
                end
            -- per-10k: (x_after - n q) / sqrt(n q (1 - q)), n = all events, q = share of exposure after
            else
                case
                    when before_numerator + after_numerator = 0 then 0.0
                    else (after_numerator - (before_numerator + after_numerator)
                            * after_denominator / (before_denominator + after_denominator))
                        / sqrt((before_numerator + after_numerator)
                            * after_denominator / (before_denominator + after_denominator)
                            * before_denominator / (before_denominator + after_denominator))
                end
        end as z_raw
    from paired

),

with_p as (

    select
        *,
        {{ normal_two_sided_p('z_raw') }} as p_raw
    from tested

),

final as (

    select
        change_id,
        title,
        change_type,
        owner_department,
        launched_on,
        kpi_code,
        region_code,
        unit,
        direction,
        window_days,
        before_start,
        before_end,
        after_start,
        after_end,
        before_numerator,
        before_denominator,
        before_value,
        after_numerator,
        after_denominator,
        after_value,
        after_value - before_value as difference,
        case when unit = 'per_10k' and before_value > 0
            then after_value / before_value end as rate_ratio,
        case when unit = 'ratio' then 'two_proportion_z' else 'poisson_rate_ratio' end
            as test_method,
        round(z_raw, 4) as z_statistic,
        round(p_raw, 6) as p_value,
        {{ significance | float }} as significance_level,
        case
            when not after_window_complete or not denominators_known then 'pending'
            when z_raw is null then 'no_data'
            when p_raw >= {{ significance | float }} then 'no_change'
            when (z_raw > 0) = (direction = 'up') then 'improved'
            else 'worse'
        end as verdict,
        complete_through
    from with_p

)

select * from final
