{#
    The raw text of a column in single quotes, for reject reasons such as
    taken_at: not a timestamp '2026-10-01 8:00:00'. Long values are cut at 80 characters.
#}
{% macro quote_value(col) -%}
    '''' || left({{ col }}, 80) || ''''
{%- endmacro %}
