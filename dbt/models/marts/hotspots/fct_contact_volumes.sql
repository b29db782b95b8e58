-- What customers contact the operator about: how many complaints per category x channel
-- and how many hotline calls per skill group, per city and for the province (JS = the sum
-- of the cities), per day, ISO week (Monday) and month. Only days before T count (the
-- complete days, int_as_of); a week or month that T cuts is reported with the days it
-- has so far (is_complete false).
-- Day of a contact: the local date of the complaint's created_at, of the call's
-- arrived_at (both are already local time, Asia/Shanghai). Every accepted complaint counts,
-- whatever its status (a cancelled complaint was still a contact); every accepted call,
-- also one that ended in self-service.

with complaints as (

    select category, channel, city_code, created_at from {{ ref('int_complaints') }}

),

calls as (

    select skill_group, city_code, arrived_at from {{ ref('int_calls') }}

),

as_of as (

    select as_of_date, report_date from {{ ref('int_as_of') }}

),

city_days as (

    select
        'complaint' as source,
        complaints.category,
        complaints.channel,
        complaints.city_code as region_code,
        cast(complaints.created_at as date) as contact_day,
        count(*) as contacts
    from complaints
    inner join as_of
        on complaints.created_at < as_of.as_of_date
    group by all

    union all

    select
        'call' as source,
        calls.skill_group as category,
        cast(null as varchar) as channel,
        calls.city_code as region_code,
        cast(calls.arrived_at as date) as contact_day,
        count(*) as contacts
    from calls
    inner join as_of
        on calls.arrived_at < as_of.as_of_date
    group by all

),

days as (

    select source, category, channel, region_code, contact_day, contacts from city_days
    union all
    select source, category, channel, 'JS' as region_code, contact_day, sum(contacts)
    from city_days
    group by all

),

periods as (

    select 'day' as period_type, contact_day as period_start, contact_day as period_end,
           source, category, channel, region_code, contacts
    from days
    union all
    select 'week' as period_type,
           cast(date_trunc('week', contact_day) as date) as period_start,
           cast(date_trunc('week', contact_day) as date) + 6 as period_end,
           source, category, channel, region_code, sum(contacts)
    from days
    group by all
    union all
    select 'month' as period_type,
           cast(date_trunc('month', contact_day) as date) as period_start,
           last_day(contact_day) as period_end,
           source, category, channel, region_code, sum(contacts)
    from days
    group by all

),

final as (

    select
        periods.period_type,
        periods.period_start,
        periods.period_end,
        periods.source,
        periods.category,
        periods.channel,
        periods.region_code,
        cast(periods.contacts as bigint) as contacts,
        periods.period_end <= as_of.report_date as is_complete
    from periods
    cross join as_of

)

select * from final
