-- The latest quality run's result per expectation (the board's data health page). Built
-- after the quality step has written its results (tag after_detection).
{{ config(tags=['after_detection']) }}

with expectation_results as (

    select * from {{ source('quality', 'qa_expectation_results') }}

),

latest_run as (

    select run_id from {{ source('quality', 'qa_suite_results') }}
    order by checked_at desc limit 1

),

final as (

    select
        expectation_results.run_id,
        expectation_results.checked_at,
        expectation_results.suite,
        expectation_results.entity,
        expectation_results.expectation_index,
        expectation_results.expectation,
        expectation_results.column_name,
        expectation_results.bounds,
        expectation_results.severity,
        expectation_results.why,
        expectation_results.success,
        expectation_results.element_count,
        expectation_results.unexpected_count,
        expectation_results.unexpected,
        expectation_results.observed_value
    from expectation_results
    inner join latest_run
        on expectation_results.run_id = latest_run.run_id

)

select * from final
