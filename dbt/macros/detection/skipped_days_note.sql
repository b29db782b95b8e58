{# In fct_kpi_breach_signals: a run of R2 or R3 whose days span more calendar days than it
   counts skipped low-volume days (closed-loop.md, "Minimum volume"); its detail says so. #}
{% macro skipped_days_note(streaks) -%}
case
    when day_values.period_start - {{ streaks }}.streak_start + 1 > {{ streaks }}.streak_days
        then ' (low-volume days skipped)'
    else ''
end
{%- endmacro %}
