{#
    Tests of what an incremental model's latest build wrote (macros/incremental): the rows
    with its _loaded_through, all of them after a full build. An incremental build leaves
    every other row as the build that wrote (and tested) it left it, so a repeat can only
    involve a row the latest build wrote; a whole-table GROUP BY over tens of millions of
    rows a day is what this saves.
#}

{# dbt's `unique` (same columns: unique_field, n_records) over the keys the latest build of
   an entity model wrote. A merge by key updates a key that is there already, so a key can
   only be there twice when one build wrote it twice. #}
{% test unique_in_latest_build(model, column_name) %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    and _loaded_through = (select max(_loaded_through) from {{ model }})
group by {{ column_name }}
having count(*) > 1

{% endtest %}


{# A staging model's (_file, _line) once, over the files its latest build parsed: a build
   deletes a file's rows before it parses the file again. #}
{% test unique_lines_in_latest_build(model) %}

select
    _file,
    _line,
    count(*) as n_rows
from {{ model }}
where _file in (
    select _file from {{ model }}
    where _loaded_through = (select max(_loaded_through) from {{ model }})
)
group by _file, _line
having count(*) > 1

{% endtest %}
