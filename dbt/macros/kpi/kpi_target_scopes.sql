{#-
    The scopes a KPI's target may be overridden for (issue 7, item 1), besides `city`,
    which any KPI may use: scope type -> the KPIs it applies to and its values (the enums
    the staging models accept for ref_store.store_level, ref_district.area_type and
    cc_call.skill_group; source-extracts.md). Read by the override tests and by
    int_kpi_scope_targets, so the two cannot disagree.
-#}
{% macro kpi_target_scopes() -%}
    {{ return({
        'store_level': {'kpis': ['K01'], 'values': ['flagship', 'standard', 'community']},
        'area_type': {'kpis': ['K12', 'K13'], 'values': ['urban', 'rural']},
        'skill_group': {'kpis': ['K02', 'K03'],
                        'values': ['general', 'broadband', 'billing', 'mobile', 'vip']},
    }) }}
{%- endmacro %}

{#- The allowed (scope_type, kpi_code, scope_value) triples of the finer scopes, as SQL rows. -#}
{% macro kpi_target_scope_rows() -%}
    {%- set rows = [] -%}
    {%- for scope_type, scope in kpi_target_scopes().items() -%}
        {%- for kpi in scope['kpis'] -%}
            {%- for value in scope['values'] -%}
                {%- do rows.append("('" ~ scope_type ~ "', '" ~ kpi ~ "', '" ~ value ~ "')") -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    (values {{ rows | join(', ') }}) as allowed_scopes (scope_type, kpi_code, scope_value)
{%- endmacro %}
