{#
    Fails with the rows where any of the given columns is NULL (every part of a key).
#}
{% test not_null_columns(model, column_names) %}

select *
from {{ model }}
where {% for c in column_names %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}

{% endtest %}
