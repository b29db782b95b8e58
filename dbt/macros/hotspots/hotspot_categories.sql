{#
    The categories a hotspot series can have, as DuckDB list literals: the complaint
    `category` and the call `skill_group` enums of source-extracts.md section 4 (the
    staging models accept exactly these). The seed hotspot_owners must cover them
    (tests/hotspot_seeds_agree.sql).
#}
{% macro hotspot_complaint_categories() -%}
    ['mobile_network', 'broadband', 'billing', 'service_attitude', 'product', 'other']
{%- endmacro %}

{% macro hotspot_skill_groups() -%}
    ['general', 'broadband', 'billing', 'mobile', 'vip']
{%- endmacro %}
