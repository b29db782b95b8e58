{#
    Strict parsers for the extract formats of source-extracts.md section 2.

    Each parse_* macro returns the typed value when the text has exactly the spec's
    format and denotes a real value, and NULL otherwise (and for NULL input), so that
    "raw text present but parsed value NULL" is exactly acceptance rule 2 (format part).
    Set-based only: a regular-expression full match guards a try_strptime / try_cast.
#}

{% macro parse_timestamp(col) -%}
    case
        when regexp_full_match({{ col }}, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}')
            then try_strptime({{ col }}, '%Y-%m-%d %H:%M:%S')
    end
{%- endmacro %}

{% macro parse_date(col) -%}
    case
        when regexp_full_match({{ col }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            then cast(try_strptime({{ col }}, '%Y-%m-%d') as date)
    end
{%- endmacro %}

{# a month YYYY-MM becomes the first day of that month #}
{% macro parse_month(col) -%}
    case
        when regexp_full_match({{ col }}, '[0-9]{4}-[0-9]{2}')
            then cast(try_strptime({{ col }} || '-01', '%Y-%m-%d') as date)
    end
{%- endmacro %}

{# -?[0-9]+ that fits a bigint #}
{% macro parse_integer(col) -%}
    case
        when regexp_full_match({{ col }}, '-?[0-9]+')
            then try_cast({{ col }} as bigint)
    end
{%- endmacro %}

{# -?[0-9]+(\.[0-9]{1,4})? as an exact decimal(18,4) (never a float) #}
{% macro parse_decimal(col) -%}
    case
        when regexp_full_match({{ col }}, '-?[0-9]+([.][0-9]{1,4})?')
            then try_cast({{ col }} as decimal(18, 4))
    end
{%- endmacro %}

{# true when the text is NULL (empty field) or a strict, real value of the type #}
{% macro is_strict_timestamp(col) -%}
    ({{ col }} is null or ({{ parse_timestamp(col) }}) is not null)
{%- endmacro %}

{% macro is_strict_date(col) -%}
    ({{ col }} is null or ({{ parse_date(col) }}) is not null)
{%- endmacro %}

{% macro is_strict_month(col) -%}
    ({{ col }} is null or ({{ parse_month(col) }}) is not null)
{%- endmacro %}

{% macro is_strict_integer(col) -%}
    ({{ col }} is null or ({{ parse_integer(col) }}) is not null)
{%- endmacro %}

{% macro is_strict_decimal(col) -%}
    ({{ col }} is null or ({{ parse_decimal(col) }}) is not null)
{%- endmacro %}
