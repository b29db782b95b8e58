-- stg_remediation__change_scopes: every KPI and region a registered change may affect
-- (rem_change_scopes, replaced with rem_changes by the Python detection step).

with source as (

    select * from {{ source('remediation', 'rem_change_scopes') }}

),

final as (

    select
        change_id,
        kpi_code,
        region_code
    from source

)

select * from final
