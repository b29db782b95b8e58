-- int_speed_tests: accepted rows of stg_net__speed_tests, one per key (source-extracts.md section 7):
-- the file with the later business date (monthly: later month), then the later line.
-- Rejected rows (by any rule, rule 4 included: macros/acceptance) never take part, so a
-- key whose newest version was rejected keeps its newest accepted version.
-- Incremental by key: a build chooses again the keys its new deliveries touched and
-- merges them in (macros/incremental/deliveries.sql, docs/incremental.md).
{{ incremental_by_key('test_id') }}

with

{{ touched_cte('net_speed_test', 'stg_net__speed_tests', 'test_id') }}
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
    where {{ accepted('net_speed_test') }}{{ only_touched_keys('test_id') }}

),

latest as (

    select * from speed_tests
    qualify row_number() over (
        partition by test_id
        order by _file_date desc nulls last, _line desc, _file desc
    ) = 1

),

chosen as (

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
        latest._line,
        false as _withdrawn,
        {{ newest_delivery() }} as _loaded_through

    from latest

),

final as (

    {{ with_withdrawn_keys('test_id') }}

)

select * from final
