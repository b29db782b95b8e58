-- int_speed_tests: accepted rows of stg_net__speed_tests, one per key (source-extracts.md section 7):
-- the file with the later business date (monthly: later month), then the later line.
-- Rejected rows never take part, so a key whose newest version was rejected keeps
-- its newest accepted version.
-- Incremental by delivery: only the keys a new delivery touched are chosen again.
-- The replaced rows' days are kept for fct_kpi_drilldown (macros/incremental/kpi_record_days.sql).
{{ incremental_by_key('net_speed_test', 'stg_net__speed_tests', 'test_id',
                      keep_replaced=kpi_window_columns('int_speed_tests')) }}

with

speed_tests as (

    select
        test_id,
        line_id,
        city_code,
        tested_at,
        method,
        subscribed_down_mbps,
        measured_down_mbps,
        measured_up_mbps,
        _file,
        _file_date,
        _line
    from {{ ref('stg_net__speed_tests') }}
    where reject_rule is null{{ only_touched_keys('test_id') }}

),

latest as (

    select * from speed_tests
    qualify row_number() over (
        partition by test_id
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

final as (

    select
        latest.test_id,
        latest.line_id,
        latest.city_code,
        latest.tested_at,
        latest.method,
        latest.subscribed_down_mbps,
        latest.measured_down_mbps,
        latest.measured_up_mbps,
        latest._file,
        latest._file_date,
        latest._line

    from latest

)

select * from final
