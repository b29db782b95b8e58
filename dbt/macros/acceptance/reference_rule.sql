{#
  Acceptance rule 4 (source-extracts.md section 6): the foreign keys against the current
  reference data. Staging judges what a row can break on its own (rules 1-3, 5-7); rule 4 is
  judged where the reference data is joined: in the entity models (which rows may be
  chosen) and in fct_rejected_rows (the verdict reported), from the same definition here.
#}

{# Per entity, its foreign keys in the spec's column order: (column, reference model,
   must be present). A missing city_code of a monthly file breaks rule 1 (it is part of the
   key), so it is not checked again here. #}
{% macro reference_keys(entity) -%}
{%- set city = ('city_code', 'int_cities', true) -%}
{{- return({
    'crm_queue_ticket': [('store_id', 'int_stores', true)],
    'crm_complaint': [city],
    'crm_survey': [city],
    'crm_subscriber': [('city_code', 'int_cities', false)],
    'billing_dispute': [city],
    'billing_refund': [city],
    'billing_bill_run': [('city_code', 'int_cities', false)],
    'cc_call': [city, ('agent_id', 'int_agents', false)],
    'fo_work_order': [city, ('district_code', 'int_districts', false), ('team_id', 'int_teams', false)],
    'net_speed_test': [city],
    'ref_city': [],
    'ref_district': [city],
    'ref_store': [city],
    'ref_team': [city],
    'ref_agent': [],
}[entity]) -}}
{%- endmacro %}


{# Rule 4's verdict on a row of `entity`: {rule: 4, reason} for its first foreign key that is
   missing or unknown, else NULL. #}
{% macro reference_reject(entity) -%}
{%- set keys = reference_keys(entity) -%}
{%- if keys -%}
case
    {%- for column, model, required in keys %}
    {%- if required %}
    when {{ column }} is null
        then { 'rule': 4, 'reason': '{{ column }}: missing' }
    {%- endif %}
    when {{ column }} not in (select {{ column }} from {{ ref(model) }})
        then { 'rule': 4, 'reason': '{{ column }}: unknown ' || {{ quote_value(column) }} }
    {%- endfor %}
end
{%- else -%}
cast(null as struct(rule integer, reason varchar))
{%- endif -%}
{%- endmacro %}


{# The row's verdict on every rule: the lowest-numbered one it breaks, NULL when accepted. #}
{% macro acceptance_verdict(entity) -%}
case
    when reject_rule < 4 then { 'rule': reject_rule, 'reason': reject_reason }
    else coalesce(
        {{ reference_reject(entity) }},
        case when reject_rule is not null then { 'rule': reject_rule, 'reason': reject_reason } end
    )
end
{%- endmacro %}


{# In an entity model: the staging row breaks no rule. #}
{% macro accepted(entity) -%}
(reject_rule is null and ({{ reference_reject(entity) }}) is null)
{%- endmacro %}


{# A landing table's row (`alias`) as delivered: one JSON object of its spec columns, in
   their order (what a reject reports; staging keeps it only for the rows it rejects). #}
{% macro delivered_values(relation, alias) -%}
{%- set names = [] -%}
{%- for column in (adapter.get_columns_in_relation(relation) if execute else []) -%}
{%- if not column.name.startswith('_') %}{% do names.append(column.name) %}{% endif -%}
{%- endfor -%}
to_json({ {%- for name in names %} '{{ name }}': {{ alias }}.{{ name }}{{ ',' if not loop.last }}{% endfor %} })
{%- endmacro %}
