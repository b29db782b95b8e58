-- Horizontal assessment (横向考核) of closed-loop.md section 6: per month, every city and
-- every department is scored on KPI attainment and on how it handled its issues, and
-- ranked against its peers. Every scope appears every month, also without issues or
-- values, so that a missing row never hides a scope from the ranking.
-- Beside the score (never in it: the formula is the spec's), the satisfaction change of the
-- issues closed in the month: pooled K05 rates before and after.

with kpi_values as (

    select * from {{ ref('fct_kpi_values') }}

),

kpi_catalog as (

    select * from {{ ref('kpi_catalog') }}

),

departments as (

    select * from {{ ref('departments') }}

),

cities as (

    select * from {{ ref('int_cities') }}

),

issues as (

    -- a cancelled issue (false alarm, data error, duplicate) was never the scope's to handle
    select * from {{ ref('stg_remediation__issues') }}
    where state <> 'cancelled'

),

kpi_complete_through as (

    select * from {{ ref('int_kpi_complete_through') }}

),

as_of as (

    select as_of_at from {{ ref('int_as_of') }}

),

issue_satisfaction as (

    select * from {{ ref('fct_issue_satisfaction_evaluation') }}

),

daily_kpis as (

    -- only complete days count (int_kpi_complete_through has the rule and K04's lag)
    select
        kpi_complete_through.kpi_code,
        kpi_catalog.owner_department,
        kpi_complete_through.complete_through
    from kpi_complete_through
    inner join kpi_catalog
        on kpi_complete_through.kpi_code = kpi_catalog.kpi_code
    where kpi_complete_through.grain = 'day'

),

months as (

    select distinct cast(date_trunc('month', period_start) as date) as month
    from kpi_values
    where period_type = 'day'

),

scopes as (

    select 'city' as scope_type, city_code as scope_code from cities
    union all
    select 'department' as scope_type, department_code as scope_code from departments

),

scope_months as (

    select
        months.month,
        scopes.scope_type,
        scopes.scope_code
    from months
    cross join scopes

),

city_day_values as (

    -- city rows only: JS is the sum of the cities and would count every value twice for
    -- a department; no_data days carry no value to attain
    select
        cast(date_trunc('month', kpi_values.period_start) as date) as month,
        kpi_values.region_code,
        daily_kpis.owner_department,
        kpi_values.status
    from kpi_values
    inner join daily_kpis
        on kpi_values.kpi_code = daily_kpis.kpi_code
    inner join cities
        on kpi_values.region_code = cities.city_code
    where
        kpi_values.period_type = 'day'
        and kpi_values.period_start <= daily_kpis.complete_through
        and kpi_values.status in ('green', 'amber', 'red')

),

scoped_values as (

    select month, 'city' as scope_type, region_code as scope_code, status
    from city_day_values
    union all
    select month, 'department' as scope_type, owner_department as scope_code, status
    from city_day_values

),

value_counts as (

    select
        month,
        scope_type,
        scope_code,
        count(*) as kpi_values,
        count(*) filter (where status = 'green') as green_values
    from scoped_values
    group by 1, 2, 3

),

scoped_issues as (

    -- an issue belongs to the month of its first opening; a province (JS) issue counts for
    -- its department only
    select
        cast(date_trunc('month', opened_at) as date) as month,
        'city' as scope_type,
        region_code as scope_code,
        met_all_deadlines,
        overdue,
        reopen_count
    from issues
    union all
    select
        cast(date_trunc('month', opened_at) as date) as month,
        'department' as scope_type,
        owner_department as scope_code,
        met_all_deadlines,
        overdue,
        reopen_count
    from issues

),

issue_counts as (

    select
        month,
        scope_type,
        scope_code,
        count(*) as issues,
        count(*) filter (where met_all_deadlines) as on_time_issues,
        count(*) filter (where overdue) as overdue_issues,
        count(*) filter (where reopen_count > 0) as reopened_issues
    from scoped_issues
    group by 1, 2, 3

),

scoped_satisfaction as (

    -- an issue counts in the month of its (last) closure; like issue handling, a province
    -- (JS) issue counts for its department only
    select
        closed_month as month,
        'city' as scope_type,
        region_code as scope_code,
        evaluation_status,
        before_surveys,
        before_satisfied,
        after_surveys,
        after_satisfied
    from issue_satisfaction
    union all
    select
        closed_month as month,
        'department' as scope_type,
        owner_department as scope_code,
        evaluation_status,
        before_surveys,
        before_satisfied,
        after_surveys,
        after_satisfied
    from issue_satisfaction

),

satisfaction_counts as (

    -- pooled over the evaluated issues (both windows complete and with surveys): the
    -- surveys of all of them before against all of them after, never an average of rates
    select
        month,
        scope_type,
        scope_code,
        count(*) filter (where evaluation_status = 'evaluated') as satisfaction_issues,
        count(*) filter (where evaluation_status = 'pending') as satisfaction_pending_issues,
        sum(before_surveys) filter (where evaluation_status = 'evaluated') as before_surveys,
        sum(before_satisfied) filter (where evaluation_status = 'evaluated') as before_satisfied,
        sum(after_surveys) filter (where evaluation_status = 'evaluated') as after_surveys,
        sum(after_satisfied) filter (where evaluation_status = 'evaluated') as after_satisfied
    from scoped_satisfaction
    group by 1, 2, 3

),

satisfaction as (

    select
        month,
        scope_type,
        scope_code,
        satisfaction_issues,
        satisfaction_pending_issues,
        case
            when before_surveys > 0 then cast(before_satisfied as double) / before_surveys
        end as satisfaction_before,
        case
            when after_surveys > 0 then cast(after_satisfied as double) / after_surveys
        end as satisfaction_after
    from satisfaction_counts

),

counted as (

    select
        scope_months.month,
        scope_months.scope_type,
        scope_months.scope_code,
        coalesce(value_counts.kpi_values, 0) as kpi_values,
        coalesce(value_counts.green_values, 0) as green_values,
        coalesce(issue_counts.issues, 0) as issues,
        coalesce(issue_counts.on_time_issues, 0) as on_time_issues,
        coalesce(issue_counts.overdue_issues, 0) as overdue_issues,
        coalesce(issue_counts.reopened_issues, 0) as reopened_issues
    from scope_months
    left join value_counts
        on scope_months.month = value_counts.month
        and scope_months.scope_type = value_counts.scope_type
        and scope_months.scope_code = value_counts.scope_code
    left join issue_counts
        on scope_months.month = issue_counts.month
        and scope_months.scope_type = issue_counts.scope_type
        and scope_months.scope_code = issue_counts.scope_code

),

shares as (

    select
        *,
        case
            when kpi_values > 0 then cast(green_values as double) / kpi_values
        end as attainment,
        -- no issues is not bad handling: full marks for on-time handling and reopens
        case
            when issues > 0 then cast(on_time_issues as double) / issues
            else 1.0
        end as on_time_share,
        case
            when issues > 0 then cast(reopened_issues as double) / issues
            else 0.0
        end as reopen_rate
    from counted

),

scored as (

    select
        *,
        60 * attainment + 30 * on_time_share + 10 * (1 - reopen_rate) as score
    from shares

),

final as (

    select
        scored.month,
        scored.scope_type,
        scored.scope_code,
        scored.kpi_values,
        scored.green_values,
        scored.attainment,
        scored.issues,
        scored.on_time_issues,
        scored.on_time_share,
        scored.overdue_issues,
        scored.reopened_issues,
        scored.reopen_rate,
        scored.score,
        -- equal scores share a rank (1, 1, 3); rounding first keeps float noise from
        -- splitting scores that are equal; a scope without values ranks last
        rank() over (
            partition by scored.month, scored.scope_type
            order by round(scored.score, 9) desc nulls last
        ) as rank,
        coalesce(satisfaction.satisfaction_issues, 0) as satisfaction_issues,
        coalesce(satisfaction.satisfaction_pending_issues, 0) as satisfaction_pending_issues,
        satisfaction.satisfaction_before,
        satisfaction.satisfaction_after,
        satisfaction.satisfaction_after - satisfaction.satisfaction_before as satisfaction_change,
        as_of.as_of_at
    from scored
    cross join as_of
    left join satisfaction
        on scored.month = satisfaction.month
        and scored.scope_type = satisfaction.scope_type
        and scored.scope_code = satisfaction.scope_code

)

select * from final
