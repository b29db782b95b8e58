-- Every version of every per-scope target override (seed kpi_target_overrides), as the
-- deployment decided them; int_kpi_scope_targets resolves which one applies on a day.

with kpi_target_overrides as (

    select * from {{ ref('kpi_target_overrides') }}

),

final as (

    select
        kpi_code,
        scope_type,
        scope_value,
        scope_city,
        valid_from,
        target,
        red_threshold,
        reason
    from kpi_target_overrides

)

select * from final
