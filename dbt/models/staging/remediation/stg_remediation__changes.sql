-- stg_remediation__changes: the change register as the pipeline last copied it
-- into the warehouse (rem_changes, replaced by the Python detection step). Already typed and
-- keyed by the issue store, so staging only selects and names the columns.

with source as (

    select * from {{ source('remediation', 'rem_changes') }}

),

final as (

    select
        change_id,
        title,
        change_type,
        owner_department,
        planned_launch_date,
        launched_on,
        state,
        snapshot_at
    from source

)

select * from final
