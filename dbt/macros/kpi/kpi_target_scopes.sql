{#-
    The scopes a KPI's target may be overridden for besides `city`, which any KPI may use:
    each KPI's own scope type is kpi_attributes.target_scope (store_level for K01, area_type
    for K12 and K13, skill_group for K02 and K03); the values of each scope type are the
    enums the staging models accept for ref_store.store_level, ref_district.area_type and
    cc_call.skill_group (source-extracts.md). Read by the override test and by
    int_kpi_scope_targets, so the two cannot disagree.
-#}
{% macro kpi_target_scope_values() -%}
    {{ return({
        'store_level': ['flagship', 'standard', 'community'],
        'area_type': ['urban', 'rural'],
        'skill_group': ['general', 'broadband', 'billing', 'mobile', 'vip'],
    }) }}
{%- endmacro %}

{#- The allowed (scope_type, kpi_code, scope_value) triples of the finer scopes, as a subquery. -#}
{% macro kpi_target_scope_rows() -%}
    {%- set rows = [] -%}
    {%- for scope_type, values in kpi_target_scope_values().items() -%}
        {%- for value in values -%}
            {%- do rows.append("('" ~ scope_type ~ "', '" ~ value ~ "')") -%}
        {%- endfor -%}
    {%- endfor -%}
    (
        select kpi_attributes.target_scope as scope_type, kpi_attributes.kpi_code,
               scope_values.scope_value
        from {{ ref('kpi_attributes') }} as kpi_attributes
        inner join (values {{ rows | join(', ') }}) as scope_values (scope_type, scope_value)
            on kpi_attributes.target_scope = scope_values.scope_type
    ) as allowed_scopes
{%- endmacro %}
