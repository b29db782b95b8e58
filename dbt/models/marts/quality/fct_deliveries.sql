-- Every delivery the inbox has seen, with what became of it (loaded, replaced, rejected,
-- failed, ignored): the landing's append-only log, for the data health page's late and
-- rejected files.

with deliveries as (

    select * from {{ source('raw', 'raw_deliveries') }}

),

final as (

    select
        run_id,
        seen_at,
        file_name,
        entity,
        business_date,
        size_bytes,
        sha256,
        outcome,
        reason
    from deliveries

)

select * from final
