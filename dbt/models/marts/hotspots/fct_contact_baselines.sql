-- Every contact series on every complete day, against its own expected level: the test
-- behind the hotspots (fct_hotspots are the rows with is_hotspot). A series is a complaint
-- category x channel x region, or a call skill group x region (region: a city, or JS).
-- The rules, in plain words (docs/decisions.md, "Hotspots"):
-- - Days: from the first delivery the entity model still holds (its earliest _file_date:
--   earlier days are incomplete) up to T - 1. A series exists from the first day it has a
--   contact on, with 0 on every day without one; a day before its first contact counts 0
--   too (a value never seen is a zero baseline, not a missing one).
-- - Baseline: the same weekday of the previous `hotspot_baseline_weeks` (4) weeks that lie
--   in that history; at least `hotspot_min_baseline_weeks` (2) of them, else the day is not
--   judged (expected null).
-- - Billing cycle: a category's day of the month is a cycle day when, a month earlier, the
--   province's contacts of that category (all channels) were at least `hotspot_min_ratio`
--   times the mean of the same weekday one and two weeks around it, with at least
--   `hotspot_min_count` contacts; its cycle factor is that ratio (with two months of
--   history the smaller of the two months' ratios, so a one-off is not a cycle), else 1.
--   Expected = cycle factor x (baseline contacts / sum of the baseline days' cycle factors):
--   the Poisson level of the series with both the weekday and the day of the month known.
-- - Test: given the day's count X and the baseline's count B, X ~ Binomial(X + B, q),
--   q = cycle factor / (cycle factor + sum of the baseline days' factors): the exact
--   conditional test of two Poisson rates (no floor for a never-seen value: B = 0 gives
--   p = q^X). p = P(X or more), score = -log10 p, 4 decimals (0 when X is not above
--   expected; p = 10^-score).
-- - Hotspot: judged, X >= `hotspot_min_count`, X >= `hotspot_min_ratio` x expected and
--   p <= `hotspot_max_p_value`.
{%- set weeks = var('hotspot_baseline_weeks') %}
{%- set min_weeks = var('hotspot_min_baseline_weeks') %}
{%- set min_count = var('hotspot_min_count') %}
{%- set min_ratio = var('hotspot_min_ratio') %}
{%- set max_p = var('hotspot_max_p_value') %}
{%- if weeks < 1 or min_weeks < 1 or min_weeks > weeks %}
    {{ exceptions.raise_compiler_error("hotspot_min_baseline_weeks must be between 1 and hotspot_baseline_weeks") }}
{%- endif %}

with volumes as (

    select source, category, channel, region_code, period_start as contact_day, contacts
    from {{ ref('fct_contact_volumes') }}
    where period_type = 'day'

),

complaints as (

    select _file_date from {{ ref('int_complaints') }}

),

calls as (

    select _file_date from {{ ref('int_calls') }}

),

as_of as (

    select report_date from {{ ref('int_as_of') }}

),

history as (

    select 'complaint' as source, min(_file_date) as first_day from complaints
    union all
    select 'call' as source, min(_file_date) as first_day from calls

),

days as (

    select
        history.source,
        cast(unnest(generate_series(history.first_day, as_of.report_date, interval 1 day))
             as date) as contact_day
    from history
    cross join as_of
    where history.first_day is not null

),

series as (

    select distinct volumes.source, volumes.category, volumes.channel, volumes.region_code
    from volumes
    inner join history
        on volumes.source = history.source
        and volumes.contact_day >= history.first_day

),

grid as (

    select
        series.source,
        series.category,
        series.channel,
        series.region_code,
        days.contact_day,
        coalesce(volumes.contacts, 0) as observed
    from series
    inner join days
        on series.source = days.source
    left join volumes
        on series.source = volumes.source
        and series.category = volumes.category
        and series.channel is not distinct from volumes.channel
        and series.region_code = volumes.region_code
        and days.contact_day = volumes.contact_day

),

province_category_days as (

    select source, category, contact_day, sum(observed) as observed
    from grid
    where region_code = 'JS'
    group by all

),

-- the same weekday one and two weeks before and after: the level a day stood out from
province_levels as (

    select
        source,
        category,
        contact_day,
        observed,
        list_filter([
            lag(observed, 14) over around, lag(observed, 7) over around,
            lead(observed, 7) over around, lead(observed, 14) over around
        ], lambda x: x is not null) as same_weekday_around
    from province_category_days
    window around as (partition by source, category order by contact_day)

),

-- null: cannot tell (too close to the ends of the history, or nothing around)
cycle_ratios as (

    select
        source,
        category,
        contact_day,
        case
            when len(same_weekday_around) < 2 or list_avg(same_weekday_around) = 0 then null
            when observed >= {{ min_count }}
                and observed >= {{ min_ratio }} * list_avg(same_weekday_around)
                then observed / list_avg(same_weekday_around)
            else 1.0
        end as cycle_ratio
    from province_levels

),

cycle_factors as (

    select
        days.source,
        days.category,
        days.contact_day,
        case
            when month_before.cycle_ratio is null then 1.0
            else least(month_before.cycle_ratio,
                       coalesce(two_months_before.cycle_ratio, month_before.cycle_ratio))
        end as cycle_factor
    from province_category_days as days
    left join cycle_ratios as month_before
        on days.source = month_before.source
        and days.category = month_before.category
        and month_before.contact_day = cast(days.contact_day - interval 1 month as date)
    left join cycle_ratios as two_months_before
        on days.source = two_months_before.source
        and days.category = two_months_before.category
        and two_months_before.contact_day = cast(days.contact_day - interval 2 month as date)

),

with_cycle as (

    select
        grid.*,
        coalesce(cycle_factors.cycle_factor, 1.0) as cycle_factor
    from grid
    left join cycle_factors
        on grid.source = cycle_factors.source
        and grid.category = cycle_factors.category
        and grid.contact_day = cycle_factors.contact_day

),

-- the grid is dense, so `lag(x, 7 k)` is the same weekday k weeks before (null before the
-- history starts)
same_weekday_before as (

    select
        *,
        [{%- for k in range(1, weeks + 1) %}
            lag(observed, {{ 7 * k }}) over series_days{{ "," if not loop.last }}
        {%- endfor %}] as baseline_days,
        [{%- for k in range(1, weeks + 1) %}
            lag(cycle_factor, {{ 7 * k }}) over series_days{{ "," if not loop.last }}
        {%- endfor %}] as baseline_cycle_factors
    from with_cycle
    window series_days as (
        partition by source, category, channel, region_code order by contact_day
    )

),

baselines as (

    select
        source,
        category,
        channel,
        region_code,
        contact_day,
        observed,
        cycle_factor,
        len(list_filter(baseline_days, lambda x: x is not null)) as baseline_weeks,
        cast(coalesce(list_sum(baseline_days), 0) as bigint) as baseline_contacts,
        coalesce(list_sum(baseline_cycle_factors), 0) as baseline_weight
    from same_weekday_before

),

expectations as (

    select
        *,
        case when baseline_weeks >= {{ min_weeks }}
            then cycle_factor * baseline_contacts / baseline_weight
        end as expected_exact,
        cycle_factor / (cycle_factor + baseline_weight) as q,
        observed + baseline_contacts as n
    from baselines

),

tested as (

    select
        *,
        case when observed > expected_exact
            then {{ binomial_upper_tail_ln('observed', 'n', 'q') }}
        end as ln_p
    from expectations

),

final as (

    select
        source,
        category,
        channel,
        region_code,
        contact_day,
        observed,
        baseline_weeks,
        baseline_contacts,
        round(cycle_factor, 4) as cycle_factor,
        round(expected_exact, 4) as expected,
        -- about 95 % of days under the model: 2 standard deviations of the day's count
        -- minus its estimated expectation
        case when expected_exact is not null then round(greatest(0, expected_exact
            - 2 * sqrt(expected_exact * (1 + cycle_factor / baseline_weight))), 4)
        end as expected_low,
        round(expected_exact + 2 * sqrt(expected_exact
            * (1 + cycle_factor / baseline_weight)), 4) as expected_high,
        case
            when expected_exact is null then null
            when ln_p is null then 0.0
            else round(-ln_p / ln(10), 4)
        end as score,
        coalesce(
            expected_exact is not null
            and observed >= {{ min_count }}
            and observed >= {{ min_ratio }} * expected_exact
            and ln_p <= ln({{ max_p }}),
            false
        ) as is_hotspot
    from tested

)

select * from final
