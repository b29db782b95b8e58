{#
    unique_combination_of_columns over the rows of the files the model's last build parsed
    (all of them after a full build). For the staging models that are incremental by
    delivery (macros/incremental): a build deletes a changed file's rows and parses the
    file again, and leaves every other file's rows as the build that wrote them (and
    tested them) left them, so a repeated (_file, _line) can only be in the rebuilt files.
    A build that did not complete makes the next one full (lib/dbt_state.py), so every row
    is tested by a completed build. On the month this is 7 s of node time a daily run
    instead of a GROUP BY over 34 M calls.
#}
{% test unique_in_rebuilt_files(model, combination_of_columns) %}

with rebuilt_files as (
    {{ files_landed_since(previous_through(model)) }}
)

select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
where _file in (select file_name from rebuilt_files)
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
