{#-
    Exact decimal text of numerator * scale / denominator, rounded half-up (half away from
    zero) to `places` decimal places, in HUGEINT integer arithmetic only (never float).
    NULL when there is no value (numerator or denominator NULL, denominator 0).
    e.g. 9 / 10 -> '0.900000000000'; 2 * 10000 / 3 -> '6666.666666666667'.
    Range: |numerator * scale| up to ~8e25 at 12 places (HUGEINT holds 1.7e38).
-#}
{% macro kpi_value_text(numerator, denominator, scale=1, places=12) -%}
    {%- set unit = 'cast(' ~ (10 ** places) ~ ' as hugeint)' -%}
    {%- set num_abs = '(abs(cast(' ~ numerator ~ ' as hugeint)) * cast(' ~ scale ~ ' as hugeint) * ' ~ unit ~ ')' -%}
    {%- set den_abs = 'abs(cast(' ~ denominator ~ ' as hugeint))' -%}
    {%- set q = '((2 * ' ~ num_abs ~ ' + ' ~ den_abs ~ ') // (2 * ' ~ den_abs ~ '))' -%}
    (case
        when {{ denominator }} is null or {{ denominator }} = 0 or {{ numerator }} is null
            then null
        else
            (case
                when (({{ numerator }} < 0) <> ({{ denominator }} < 0)) and {{ q }} > 0 then '-'
                else ''
             end)
            || cast({{ q }} // {{ unit }} as varchar)
            {%- if places > 0 %}
            || '.'
            || lpad(cast({{ q }} % {{ unit }} as varchar), {{ places }}, '0')
            {%- endif %}
    end)
{%- endmacro %}
