-- The hotspots (投诉热点): the series-days fct_contact_baselines judged surprising, with the
-- department each is fed back to (seed hotspot_owners) and the first day of its run of
-- consecutive hotspot days (started_on: what a change launch is matched against, in
-- fct_hotspot_changes). Early warnings like R4: they open no issue by themselves; a quality
-- manager may promote one (`qloop hotspots promote`). Ranked per day by score.

with baselines as (

    select * from {{ ref('fct_contact_baselines') }}
    where is_hotspot

),

owners as (

    select source, category, owner_department, issue_code from {{ ref('hotspot_owners') }}

),

runs as (

    -- consecutive days of one series share day - (its position among the series' days)
    select
        *,
        contact_day - cast(row_number() over (
            partition by source, category, channel, region_code order by contact_day
        ) as integer) as run_key
    from baselines

),

final as (

    select
        runs.contact_day,
        runs.source,
        runs.category,
        runs.channel,
        runs.region_code,
        runs.observed,
        runs.expected,
        runs.expected_high,
        case when runs.expected > 0 then round(runs.observed / runs.expected, 4) end as ratio,
        runs.score,
        rank() over (partition by runs.contact_day order by runs.score desc) as day_rank,
        min(runs.contact_day) over (
            partition by runs.source, runs.category, runs.channel, runs.region_code,
                         runs.run_key
        ) as started_on,
        owners.owner_department,
        owners.issue_code
    from runs
    left join owners
        on runs.source = owners.source
        and runs.category = owners.category

)

select * from final
