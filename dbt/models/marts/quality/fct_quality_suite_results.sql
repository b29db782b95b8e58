-- The latest quality run's verdict per suite (the board's data health page). Built after
-- the quality step has written its results (tag after_detection: the second dbt
-- invocation).
{{ config(tags=['after_detection']) }}

with suite_results as (

    select * from {{ source('quality', 'qa_suite_results') }}

),

latest_run as (

    select run_id from suite_results order by checked_at desc limit 1

),

final as (

    select
        suite_results.run_id,
        suite_results.checked_at,
        suite_results.suite,
        suite_results.entity,
        suite_results.kpi_sources,
        suite_results.files,
        suite_results.success,
        suite_results.blocking_failed,
        suite_results.error
    from suite_results
    inner join latest_run
        on suite_results.run_id = latest_run.run_id

)

select * from final
