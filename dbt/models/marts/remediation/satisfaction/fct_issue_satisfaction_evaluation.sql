{{ config(tags=['after_detection']) }}

-- Satisfaction post-evaluation of closed issues: for each closed issue,
-- the K05 satisfaction rate of the survey contact types its KPI concerns, in its region,
-- over the window_days days before the day it was opened against the window_days days
-- after the day it was closed.
--
-- Windows are whole local calendar days, as K05 counts a survey on the day of responded_at:
--   before = [open day - N, open day - 1]: the opening day itself is left out (detection
--            opened the issue that day; its surveys are partly before, partly after);
--   after  = [close day + 1, close day + N]: the closing day is left out likewise (the fix
--            was signed off during it).
-- opened_at is the first opening; a reopened issue that was closed again carries its last
-- closure in closed_at (the issue store clears closed_at on reopening), so "after" follows
-- the last closure. Only complete K05 days count (day <= complete_through, i.e. < T): the
-- evaluation is "pending" until the whole after window is complete, and its after counts
-- are those of the days seen so far.

with issues as (

    -- only issues whose current state is closed: a reopened issue is being worked on again
    select * from {{ ref('stg_remediation__issues') }}
    where state = 'closed'
        and closed_at is not null

),

kpi_survey_contact_types as (

    select * from {{ ref('kpi_survey_contact_types') }}

),

kpi_records as (

    -- K05 exactly as the KPI counts it: surveys with a score, numerator = score >= 4
    select * from {{ ref('int_kpi_records') }}
    where kpi_code = 'K05'

),

surveys as (

    select * from {{ ref('int_surveys') }}

),

kpi_complete_through as (

    select * from {{ ref('int_kpi_complete_through') }}
    where kpi_code = 'K05'

),

-- K05's records with the contact type of their survey (record_id is the survey_id), summed
-- per day, city and contact type first: the windows then join a few thousand rows (days x
-- 13 cities x 5 types), not every survey
k05_daily as (

    select
        kpi_records.activity_date,
        kpi_records.city_code,
        surveys.contact_type,
        sum(kpi_records.numerator) as satisfied,
        sum(kpi_records.denominator) as surveys
    from kpi_records
    inner join surveys
        on kpi_records.record_id = surveys.survey_id
    group by 1, 2, 3

),

windows as (

    select
        issues.issue_id,
        issues.kpi_code,
        issues.region_code,
        issues.owner_department,
        issues.opened_at,
        issues.closed_at,
        cast(date_trunc('month', issues.closed_at) as date) as closed_month,
        {{ var('satisfaction_window_days') }} as window_days,
        cast(issues.opened_at as date) - {{ var('satisfaction_window_days') }} as before_start,
        cast(issues.opened_at as date) - 1 as before_end,
        cast(issues.closed_at as date) + 1 as after_start,
        cast(issues.closed_at as date) + {{ var('satisfaction_window_days') }} as after_end,
        kpi_complete_through.complete_through,
        kpi_complete_through.as_of_at
    from issues
    -- no as-of time (no daily file loaded) -> nothing can be evaluated
    inner join kpi_complete_through
        on true

),

-- the issue's surveys: its KPI's contact types, its city (JS = every city), inside one of
-- its two windows and on a complete day
matched as (

    select
        windows.issue_id,
        k05_daily.activity_date between windows.before_start and windows.before_end
            as in_before,
        k05_daily.satisfied,
        k05_daily.surveys
    from windows
    inner join kpi_survey_contact_types
        on windows.kpi_code = kpi_survey_contact_types.kpi_code
    inner join k05_daily
        on kpi_survey_contact_types.contact_type = k05_daily.contact_type
        and (windows.region_code = 'JS' or windows.region_code = k05_daily.city_code)
        and k05_daily.activity_date <= windows.complete_through
        and (
            k05_daily.activity_date between windows.before_start and windows.before_end
            or k05_daily.activity_date between windows.after_start and windows.after_end
        )

),

counted as (

    select
        issue_id,
        cast(coalesce(sum(surveys) filter (where in_before), 0) as bigint) as before_surveys,
        cast(coalesce(sum(satisfied) filter (where in_before), 0) as bigint) as before_satisfied,
        cast(coalesce(sum(surveys) filter (where not in_before), 0) as bigint) as after_surveys,
        cast(coalesce(sum(satisfied) filter (where not in_before), 0) as bigint) as after_satisfied
    from matched
    group by issue_id

),

contact_types as (

    select
        kpi_code,
        string_agg(contact_type, ',' order by contact_type) as contact_types
    from kpi_survey_contact_types
    group by kpi_code

),

rated as (

    select
        windows.*,
        contact_types.contact_types,
        coalesce(counted.before_surveys, 0) as before_surveys,
        coalesce(counted.before_satisfied, 0) as before_satisfied,
        coalesce(counted.after_surveys, 0) as after_surveys,
        coalesce(counted.after_satisfied, 0) as after_satisfied,
        -- days of the after window that are complete as of T (0 .. window_days)
        greatest(
            0,
            least(windows.after_end, windows.complete_through) - windows.after_start + 1
        ) as after_days_observed
    from windows
    left join counted
        on windows.issue_id = counted.issue_id
    left join contact_types
        on windows.kpi_code = contact_types.kpi_code

),

final as (

    select
        issue_id,
        kpi_code,
        region_code,
        owner_department,
        contact_types,
        opened_at,
        closed_at,
        closed_month,
        window_days,
        before_start,
        before_end,
        after_start,
        after_end,
        before_surveys,
        before_satisfied,
        case
            when before_surveys > 0 then cast(before_satisfied as double) / before_surveys
        end as before_rate,
        after_surveys,
        after_satisfied,
        case
            when after_surveys > 0 then cast(after_satisfied as double) / after_surveys
        end as after_rate,
        after_days_observed,
        case
            when after_end > complete_through then 'pending'
            when before_surveys = 0 or after_surveys = 0 then 'no_surveys'
            else 'evaluated'
        end as evaluation_status,
        -- the change is final only: null while pending and when a window has no survey
        case
            when after_end <= complete_through and before_surveys > 0 and after_surveys > 0
                then cast(after_satisfied as double) / after_surveys
                    - cast(before_satisfied as double) / before_surveys
        end as rate_change,
        as_of_at
    from rated

)

select * from final
