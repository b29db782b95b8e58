-- fct_file_reconciliation: one row per delivery in force (raw_files). Every record read
-- from a file is either accepted (a staging row with no reject) or rejected (a staging
-- reject, or an unparsed record): reconciles says rows_read = accepted + rejected.

{%- set staging_models = [
    'stg_crm__queue_tickets', 'stg_crm__complaints', 'stg_crm__surveys', 'stg_crm__subscribers',
    'stg_billing__disputes', 'stg_billing__refunds', 'stg_billing__bill_runs', 'stg_cc__calls',
    'stg_fo__work_orders', 'stg_net__speed_tests', 'stg_ref__cities', 'stg_ref__districts',
    'stg_ref__stores', 'stg_ref__teams', 'stg_ref__agents',
] %}

with

files as (

    select * from {{ source('raw', 'raw_files') }}

),

unparsed as (

    select * from {{ source('raw', 'raw_unparsed_records') }}

),

{% for model in staging_models %}
{{ model }} as (

    select
        _file,
        count(*) as rows_staged,
        count(*) filter (where reject_rule is null) as rows_accepted,
        count(*) filter (where reject_rule is not null) as rows_rejected
    from {{ ref(model) }}
    group by _file

),

{% endfor %}
staged as (

    {% for model in staging_models %}
    select * from {{ model }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

unparsed_per_file as (

    select
        _file,
        count(*) as rows_unparsed
    from unparsed
    group by _file

),

final as (

    select
        files.file_name,
        files.entity,
        files.kind,
        files.business_date,
        files.rows_read,
        coalesce(staged.rows_staged, 0) as rows_landed,
        coalesce(unparsed_per_file.rows_unparsed, 0) as rows_unparsed,
        coalesce(staged.rows_accepted, 0) as rows_accepted,
        coalesce(staged.rows_rejected, 0)
            + coalesce(unparsed_per_file.rows_unparsed, 0) as rows_rejected,
        files.rows_read = coalesce(staged.rows_accepted, 0)
            + coalesce(staged.rows_rejected, 0)
            + coalesce(unparsed_per_file.rows_unparsed, 0) as reconciles,
        files.loaded_at,
        files.run_id

    from files
    left join staged on files.file_name = staged._file
    left join unparsed_per_file on files.file_name = unparsed_per_file._file

)

select * from final
