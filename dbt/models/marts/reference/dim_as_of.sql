-- The reporting date of the warehouse's numbers: T and the report date (T - 1). One row, or
-- none before the first daily extract.

with as_of as (

    select * from {{ ref('int_as_of') }}

),

final as (

    select
        as_of_at,
        as_of_date,
        report_date
    from as_of

)

select * from final
