-- fct_file_reconciliation: one row per delivery in force (raw_files). Every record read
-- from a file is either accepted (a staging row that breaks no rule) or rejected (a row of
-- fct_rejected_rows: a staging row that breaks a rule, or an unparsed record):
-- reconciles says rows_read = accepted + rejected.
-- Incremental by delivery: the files delivered since the last build are counted again;
-- every file when a reference file came (rule 4 may accept or reject rows anew).
{{ incremental_by_delivery(rejudged_by_reference=true, file_column='file_name') }}

{%- set staging_models = [
    'stg_crm__queue_tickets', 'stg_crm__complaints', 'stg_crm__surveys', 'stg_crm__subscribers',
    'stg_billing__disputes', 'stg_billing__refunds', 'stg_billing__bill_runs', 'stg_cc__calls',
    'stg_fo__work_orders', 'stg_net__speed_tests', 'stg_ref__cities', 'stg_ref__districts',
    'stg_ref__stores', 'stg_ref__teams', 'stg_ref__agents',
] %}

with

files as (

    select * from {{ source('raw', 'raw_files') }}{{ only_new_deliveries(rejudged_by_reference=true, file_column='file_name') }}

),

staged as (

    {% for model in staging_models %}
    select _file, count(*) as rows_staged
    from {{ ref(model) }}{{ only_new_deliveries(rejudged_by_reference=true) }}
    group by _file
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

unparsed as (

    select _file, count(*) as rows_unparsed
    from {{ source('raw', 'raw_unparsed_records') }}{{ only_new_deliveries(rejudged_by_reference=true) }}
    group by _file

),

rejected as (

    select file_name, count(*) as rows_rejected
    from {{ ref('fct_rejected_rows') }}{{ only_new_deliveries(rejudged_by_reference=true, file_column='file_name') }}
    group by file_name

),

counted as (

    select
        files.*,
        coalesce(staged.rows_staged, 0) as rows_staged,
        coalesce(unparsed.rows_unparsed, 0) as rows_unparsed_now,
        coalesce(rejected.rows_rejected, 0) as rows_rejected_now
    from files
    left join staged on files.file_name = staged._file
    left join unparsed on files.file_name = unparsed._file
    left join rejected on files.file_name = rejected.file_name

),

final as (

    select
        file_name,
        entity,
        kind,
        business_date,
        rows_read,
        rows_staged as rows_landed,
        rows_unparsed_now as rows_unparsed,
        rows_staged - (rows_rejected_now - rows_unparsed_now) as rows_accepted,
        rows_rejected_now as rows_rejected,
        rows_read = rows_staged + rows_unparsed_now as reconciles,
        loaded_at,
        run_id,
        {{ newest_delivery() }} as _loaded_through
    from counted

)

select * from final
