{#
  Incremental models read how far their last build got from their own rows
  (docs/incremental.md).

  Every incremental model has the column `_loaded_through`: the newest delivery in force
  (raw_files.loaded_at) when its row was written. A model's max(_loaded_through) is where its
  next build starts: the deliveries landed after it are new to the model. A build that writes
  no row leaves it where it was, so its deliveries are looked at again next time (they change
  nothing then either).
#}

{# The newest delivery in force now: what this build's rows are written through. #}
{% macro newest_delivery() -%}
(select max(loaded_at) from {{ source('raw', 'raw_files') }})
{%- endmacro %}


{# The max(_loaded_through) of `model` before this build, as a timestamp literal
   ('-infinity' when the model is built in full). Read with run_query, so that a pre-hook
   and the model's select, both rendered before the pre-hook deletes anything, use the same
   value. #}
{% macro previous_build(model=this) -%}
{%- if not execute or not is_incremental() -%}
{{- return("timestamp '-infinity'") -}}
{%- endif -%}
{%- set through = run_query("select max(_loaded_through) from " ~ model).columns[0].values()[0] -%}
{{- return("timestamp '-infinity'" if through is none else "timestamp '" ~ through ~ "'") -}}
{%- endmacro %}


{# The files delivered after `since` (of `entity`, or of every entity): new ones and
   re-deliveries, whose earlier rows they replace. With `rejudged_by_reference`, every file
   when a reference file was delivered after `since` too: rule 4 judges every row of every
   file against the current reference data. #}
{% macro deliveries_since(since, entity=none, rejudged_by_reference=false) -%}
select file_name from {{ source('raw', 'raw_files') }}
where {% if entity %}entity = '{{ entity }}' and {% endif %}(
    loaded_at > {{ since }}
    {%- if rejudged_by_reference %}
    or exists (select 1 from {{ source('raw', 'raw_files') }}
               where kind = 'reference' and loaded_at > {{ since }})
    {%- endif %}
)
{%- endmacro %}


{# Config of a model built per delivery (a file's rows are always replaced together): its
   pre-hook deletes the rows of the files delivered since the last build (`file_column`
   names the file), its select appends them again (only_new_deliveries). #}
{% macro incremental_by_delivery(entity=none, rejudged_by_reference=false, file_column='_file') -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where " ~ file_column ~ " in ("
             ~ "{{ deliveries_since(previous_build(), " ~ (("'" ~ entity ~ "'") if entity else "none")
             ~ ", " ~ rejudged_by_reference ~ ") }}){% endif %}",
) }}
{%- endmacro %}


{# In a per-delivery model's import CTE: the rows of the files delivered since the last
   build (every row on a full build). #}
{% macro only_new_deliveries(entity=none, rejudged_by_reference=false, file_column='_file') -%}
{%- if is_incremental() %}
    where {{ file_column }} in ({{ deliveries_since(previous_build(), entity, rejudged_by_reference) }})
{%- endif %}
{%- endmacro %}


{# Config of an entity model, one row per key (source-extracts.md section 7): a build
   chooses the version of the keys the new deliveries touched again, and merges them into
   the table. A key left without an accepted version (its file re-delivered without it, or
   every version of it now rejected) comes as a row with `_withdrawn` true, which deletes
   it: in the table `_withdrawn` is always false. #}
{% macro incremental_by_key(key) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=key,
    on_schema_change='fail',
    merge_clauses={
        'when_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE._withdrawn', 'action': 'delete'},
            {'action': 'update', 'mode': 'by_name'},
        ],
        'when_not_matched': [
            {'condition': 'not DBT_INTERNAL_SOURCE._withdrawn', 'action': 'insert',
             'mode': 'by_name'},
        ],
    },
) }}
{%- endmacro %}


{# The keys an entity build chooses again: those in the staging rows of the new deliveries,
   and those whose chosen version came from a file delivered again since (the new delivery
   may no longer hold them). Every key after a reference file came (rule 4). #}
{% macro touched_keys(entity, staging_model, key) -%}
select {{ key }} from {{ ref(staging_model) }}
where _file in ({{ deliveries_since(previous_build(), entity, true) }}) and {{ key }} is not null
union
select {{ key }} from {{ this }}
where _file in ({{ deliveries_since(previous_build(), entity, true) }})
{%- endmacro %}


{# In an entity model: the CTE `touched` of the keys this build chooses again (incremental
   builds only). #}
{% macro touched_cte(entity, staging_model, key) -%}
{%- if is_incremental() %}
touched as (

    {{ touched_keys(entity, staging_model, key) }}

),
{% endif -%}
{%- endmacro %}


{# In an entity model's import CTE: only the touched keys' versions (incremental builds). #}
{% macro only_touched_keys(key) -%}
{%- if is_incremental() %}
        and {{ key }} in (select {{ key }} from touched)
{%- endif %}
{%- endmacro %}


{# An entity model's final rows: the chosen versions, and on an incremental build a
   withdrawn row for each touched key that has none (the merge deletes its row). #}
{% macro with_withdrawn_keys(key) -%}
select * from chosen
{%- if is_incremental() %}
union all by name
select {{ key }}, true as _withdrawn, {{ newest_delivery() }} as _loaded_through
from touched
where {{ key }} not in (select {{ key }} from chosen)
{%- endif %}
{%- endmacro %}
