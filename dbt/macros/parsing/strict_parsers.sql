{#
    Strict parsers for the extract formats of source-extracts.md section 2.

    Each parse_* macro returns the typed value when the text has exactly the spec's
    format and denotes a real value, and NULL otherwise (and for NULL input), so that
    "raw text present but parsed value NULL" is exactly acceptance rule 2 (format part).
    Set-based only: a full match of the format guards a try_strptime / try_cast (which
    alone would accept '2026-10-5 08:00:00 ' or ' 2026-10-05 8:00:00'). The fixed-width
    dates and times are matched by a GLOB of ASCII digit classes (a GLOB matches the whole
    text, at a third of a regular expression's cost).

    Real values only: try_strptime refuses month 13, 2026-02-29, 2026-04-31, hour 24 and
    minute or second 60, but reads year 0000 as 1 BC, so that year is refused here.
    Integers must fit a BIGINT and decimals a DECIMAL(18,4) (14 digits before the point):
    a longer number is out of range, a rule 2 reject like any other text that does not
    parse (docs/decisions.md, "Strict parsing").
#}

{# the GLOB of `pattern` with every 9 a digit class: '9999-99' -> '[0-9][0-9][0-9][0-9]-[0-9][0-9]' #}
{% macro digits_glob(col, pattern) -%}
    {{ col }} glob '{{ pattern | replace('9', '[0-9]') }}'
{%- endmacro %}

{# the digits of a date and the year 0001-9999 (the Gregorian calendar has no year 0) #}
{% macro calendar_glob(col, pattern) -%}
    ({{ digits_glob(col, pattern) }} and {{ col }} not like '0000%')
{%- endmacro %}

{% macro parse_timestamp(col) -%}
    case
        when {{ calendar_glob(col, '9999-99-99 99:99:99') }}
            then try_strptime({{ col }}, '%Y-%m-%d %H:%M:%S')
    end
{%- endmacro %}

{% macro parse_date(col) -%}
    case
        when {{ calendar_glob(col, '9999-99-99') }}
            then cast(try_strptime({{ col }}, '%Y-%m-%d') as date)
    end
{%- endmacro %}

{# a month YYYY-MM becomes the first day of that month #}
{% macro parse_month(col) -%}
    case
        when {{ calendar_glob(col, '9999-99') }}
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
