-- The complaints behind each complaint hotspot (the board pages through their summaries):
-- the complaints of the hotspot's category and channel created on its day, in its city (a
-- JS hotspot: in every city). Call hotspots have no rows: a call carries no text.

with hotspots as (

    select contact_day, category, channel, region_code
    from {{ ref('fct_hotspots') }}
    where source = 'complaint'

),

complaints as (

    select complaint_id, city_code, channel, category, severity, status, summary, created_at
    from {{ ref('int_complaints') }}

),

final as (

    select
        hotspots.contact_day,
        hotspots.category,
        hotspots.channel,
        hotspots.region_code,
        complaints.complaint_id,
        complaints.city_code,
        complaints.created_at,
        complaints.severity,
        complaints.status,
        complaints.summary
    from hotspots
    inner join complaints
        on complaints.category = hotspots.category
        and complaints.channel = hotspots.channel
        and complaints.created_at >= hotspots.contact_day
        and complaints.created_at < hotspots.contact_day + 1
        and (hotspots.region_code = 'JS' or complaints.city_code = hotspots.region_code)

)

select * from final
