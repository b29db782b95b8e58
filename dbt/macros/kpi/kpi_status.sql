{#-
    RAG status compared exactly in integers (HUGEINT): numerator * scale is compared with
    target * denominator and red_threshold * denominator. target / red_threshold are the
    seed's DECIMAL(18,4) values, scaled by 10^4 to exact integers (both sides times 10^4).
      up:   green if n*scale >= target*d;  red if n*scale <  red*d;  else amber
      down: green if n*scale <= target*d;  red if n*scale >  red*d;  else amber
    denominator NULL or 0 -> no_data.
-#}
{% macro kpi_status(numerator, denominator, scale, target, red_threshold, direction) -%}
    {%- set lhs = '(cast(' ~ numerator ~ ' as hugeint) * cast(' ~ scale ~ ' as hugeint) * cast(10000 as hugeint))' -%}
    {%- set tgt = '(cast(cast(' ~ target ~ ' as decimal(38, 4)) * 10000 as hugeint) * cast(' ~ denominator ~ ' as hugeint))' -%}
    {%- set red = '(cast(cast(' ~ red_threshold ~ ' as decimal(38, 4)) * 10000 as hugeint) * cast(' ~ denominator ~ ' as hugeint))' -%}
    (case
        when {{ denominator }} is null or {{ denominator }} = 0 or {{ numerator }} is null
            then 'no_data'
        when {{ direction }} = 'up' then
            case
                when {{ lhs }} >= {{ tgt }} then 'green'
                when {{ lhs }} < {{ red }} then 'red'
                else 'amber'
            end
        when {{ direction }} = 'down' then
            case
                when {{ lhs }} <= {{ tgt }} then 'green'
                when {{ lhs }} > {{ red }} then 'red'
                else 'amber'
            end
    end)
{%- endmacro %}
