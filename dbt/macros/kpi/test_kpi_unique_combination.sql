{#- Generic data test: the combination of `columns` is unique (no dbt_utils offline). -#}
{% test kpi_unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
