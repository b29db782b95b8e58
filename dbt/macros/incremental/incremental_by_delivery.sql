{#
  Incremental by delivery (docs/decisions.md, "Incremental runs").

  The daily extracts' staging models (parse + acceptance rules) and entity models
  (de-duplication) are incremental: a run re-does only the deliveries landed since the
  model was last built, so a daily run parses one day, not the whole history.

  - A model's watermark (qloop_watermarks) is the newest raw_files.loaded_at it has seen.
    Files landed after it are "changed": a new file, or a re-delivery (the landing replaced
    its rows and its loaded_at).
  - A reference file landed after the watermark makes every file "changed": rule 4 judges
    every row against the current reference data, and the entities carry reference
    attributes (team, site, store city).
  - Staging: the changed files' rows are deleted, then re-parsed from the landing table.
  - Entities: the keys touched by a changed file (in its new rows, or won by its old
    version) are deleted, then their winner is chosen again among all accepted versions.
    The touched keys are kept in `<model>__touched_keys` until the next build (empty after
    a full build): the key's uniqueness test checks them (generic_tests/
    unique_in_touched_keys.sql).
  - A full build (first build, `--full-refresh`, or a changed dbt project: see
    dagster_project/lib/dbt_state.py) rebuilds everything and sets the watermark.
  - The watermark before the build (`previous_through`, -infinity after a full build) is
    kept beside it: the staging models' (_file, _line) test checks the files this build
    parsed (generic_tests/unique_in_rebuilt_files.sql).
#}

{% macro create_watermark_table() %}
create table if not exists {{ target.schema }}.qloop_watermarks (
    model varchar primary key,
    loaded_through timestamp not null
);
alter table {{ target.schema }}.qloop_watermarks
    add column if not exists previous_through timestamp
{% endmacro %}


{% macro model_watermark(model=this) -%}
coalesce((select loaded_through from {{ target.schema }}.qloop_watermarks
          where model = '{{ model.identifier }}'), timestamp '-infinity')
{%- endmacro %}


{# The watermark the last build of `model` started from: -infinity when it rebuilt
   everything (or never ran). #}
{% macro previous_through(model) -%}
coalesce((select previous_through from {{ target.schema }}.qloop_watermarks
          where model = '{{ model.identifier }}'), timestamp '-infinity')
{%- endmacro %}


{# After a build: the new watermark, and the one this build started from (-infinity when
   it rebuilt everything). #}
{% macro advance_watermark() -%}
insert or replace into {{ target.schema }}.qloop_watermarks (model, loaded_through, previous_through)
select '{{ this.identifier }}', coalesce(max(loaded_at), timestamp '-infinity'),
       {% if is_incremental() %}{{ model_watermark() }}{% else %}timestamp '-infinity'{% endif %}
from {{ source('raw', 'raw_files') }}
{%- endmacro %}


{# Files landed after `since`, or every file when a reference file landed after it. #}
{% macro files_landed_since(since) -%}
select file_name from {{ source('raw', 'raw_files') }}
where loaded_at > {{ since }}
   or exists (select 1 from {{ source('raw', 'raw_files') }}
              where kind = 'reference' and loaded_at > {{ since }})
{%- endmacro %}


{# The names of the files of `entity` that this build must (re)process. #}
{% macro changed_files(entity) -%}
select file_name from {{ source('raw', 'raw_files') }}
where entity = '{{ entity }}'
{%- if is_incremental() %}
  and file_name in ({{ files_landed_since(model_watermark()) }})
{%- endif %}
{%- endmacro %}


{# Config of a daily staging model: one delivery's rows are replaced together. #}
{% macro incremental_by_file(entity) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where _file in ("
             ~ "{{ changed_files('" ~ entity ~ "') }}){% endif %}",
    post_hook="{{ advance_watermark() }}",
) }}
{%- endmacro %}


{# Config of a daily entity model: the touched keys are chosen again. `keep_replaced`:
   columns of the touched keys' previous rows to keep for models downstream (which days
   they counted in: macros/incremental/kpi_record_days.sql). #}
{% macro incremental_by_key(entity, staging_model, key, keep_replaced=[]) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ forget_touched_keys('" ~ entity ~ "', '" ~ staging_model ~ "', '" ~ key ~ "', "
             ~ keep_replaced | tojson ~ ") }}",
    post_hook="{{ advance_watermark() }}",
) }}
{%- endmacro %}


{# A table, not a temp table: the key's test reads it after the build (temp tables are
   per connection, and dbt runs the test on another). #}
{% macro touched_keys_table(model=this) -%}
{{ model.schema }}.{{ model.identifier }}__touched_keys
{%- endmacro %}


{% macro replaced_rows_table(model=this) -%}
{{ model.schema }}.{{ model.identifier }}__replaced_rows
{%- endmacro %}


{# Incremental build: remember the touched keys, then delete their rows. Full build: no
   key is touched (the test checks the whole table), so the table is left empty. #}
{% macro forget_touched_keys(entity, staging_model, key, keep_replaced=[]) %}
{%- set kept = ([key] + keep_replaced) | join(', ') %}
{%- if is_incremental() %}
create or replace table {{ touched_keys_table() }} as
    select {{ key }} as touched_key from {{ ref(staging_model) }}
    where _file in ({{ changed_files(entity) }}) and {{ key }} is not null
    union
    select {{ key }} from {{ this }}
    where _file in ({{ changed_files(entity) }});
{%- if keep_replaced %}
create or replace table {{ replaced_rows_table() }} as
    select {{ kept }} from {{ this }}
    where {{ key }} in (select touched_key from {{ touched_keys_table() }});
{%- endif %}
delete from {{ this }} where {{ key }} in (select touched_key from {{ touched_keys_table() }})
{%- else %}
create or replace table {{ touched_keys_table() }} as
    select {{ key }} as touched_key from {{ ref(staging_model) }} limit 0
{%- if keep_replaced %};
create or replace table {{ replaced_rows_table() }} as
    select {{ kept }} from {{ ref(staging_model) }} limit 0
{%- endif %}
{%- endif %}
{% endmacro %}


{# In an entity model's import CTE: only the touched keys on an incremental build. #}
{% macro only_touched_keys(key) -%}
{%- if is_incremental() %}
      and {{ key }} in (select touched_key from {{ touched_keys_table() }})
{%- endif %}
{%- endmacro %}


{# In a staging model's import CTE: only the changed files on an incremental build. #}
{% macro only_changed_files(entity) -%}
{%- if is_incremental() %}
    where _file in ({{ changed_files(entity) }})
{%- endif %}
{%- endmacro %}
