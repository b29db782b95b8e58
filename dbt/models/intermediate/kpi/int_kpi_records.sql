{{ config(materialized='view') }}

-- Record-level facts of the 15 KPIs (kpi-catalog.md): one row per record and KPI it counts
-- in, over every record (macros/kpi/kpi_records.sql, where the branches and their rules
-- live; fct_kpi_drilldown computes the same for its window of days). A view: large, and
-- read by the unit tests of every KPI formula.

{{ kpi_records() }}
