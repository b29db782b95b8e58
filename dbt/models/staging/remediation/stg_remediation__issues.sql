-- stg_remediation__issues: the issue store's issues as the pipeline last copied them into
-- the warehouse (rem_issues, replaced by the Python detection step). The copy is already
-- typed and keyed by the issue store, so staging only selects and names the columns.

with source as (

    select * from {{ source('remediation', 'rem_issues') }}

),

final as (

    select
        issue_id,
        kpi_code,
        region_code,
        owner_department,
        severity,
        state,
        opened_at,
        closed_at,
        cancelled_at,
        reopen_count,
        met_all_deadlines,
        overdue,
        snapshot_at
    from source

)

select * from final
