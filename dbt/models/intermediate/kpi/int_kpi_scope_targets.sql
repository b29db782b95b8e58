-- The target and red threshold in force for every KPI x region x scope, as intervals of
-- days: the one place where kpi_target_overrides are resolved.
--
-- Scopes of a region: the city itself (what the city's KPI values are judged against) and
-- each finer scope its KPI allows (kpi_attributes.target_scope: store_level for K01,
-- area_type for K12/K13, skill_group for K02/K03), in every city. The province JS keeps the catalog's
-- targets. Precedence, most specific first:
--   4 scope_in_city    a finer-scope override limited to this city ("rural districts of XZ")
--   3 scope_everywhere a finer-scope override without scope_city ("rural districts")
--   2 city             a city override (applies to the city and every finer scope in it)
--   1 catalog          kpi_catalog
-- Within one level the version in force on day d is the latest valid_from <= d. The most
-- specific level that has a version in force on d wins, whatever the valid_from dates
-- of the levels below it. A day d falls in [valid_from, valid_to).

with kpi_catalog as (

    select kpi_code, target, red_threshold from {{ ref('kpi_catalog') }}

),

overrides as (

    select * from {{ ref('kpi_target_overrides') }}

),

cities as (

    select city_code from {{ ref('int_cities') }}

),

allowed_scopes as (

    select * from {{ kpi_target_scope_rows() }}

),

scope_keys as (

    -- every city's own scope of every KPI
    select
        kpi_catalog.kpi_code,
        cities.city_code as region_code,
        'city' as scope_type,
        cities.city_code as scope_value
    from kpi_catalog
    cross join cities

    union all

    -- the province: only the catalog applies (no override names JS)
    select
        kpi_code,
        'JS' as region_code,
        'city' as scope_type,
        'JS' as scope_value
    from kpi_catalog

    union all

    -- every finer scope its KPI allows, in every city
    select
        allowed_scopes.kpi_code,
        cities.city_code as region_code,
        allowed_scopes.scope_type,
        allowed_scopes.scope_value
    from allowed_scopes
    cross join cities

),

catalog_candidates as (

    select
        scope_keys.kpi_code,
        scope_keys.region_code,
        scope_keys.scope_type,
        scope_keys.scope_value,
        date '0001-01-01' as valid_from,
        kpi_catalog.target,
        kpi_catalog.red_threshold,
        'catalog' as target_source,
        1 as precedence,
        cast(null as varchar) as reason
    from scope_keys
    inner join kpi_catalog
        on scope_keys.kpi_code = kpi_catalog.kpi_code

),

override_candidates as (

    select
        scope_keys.kpi_code,
        scope_keys.region_code,
        scope_keys.scope_type,
        scope_keys.scope_value,
        overrides.valid_from,
        overrides.target,
        overrides.red_threshold,
        case
            when overrides.scope_type = 'city' then 'city'
            when overrides.scope_city is null then 'scope_everywhere'
            else 'scope_in_city'
        end as target_source,
        case
            when overrides.scope_type = 'city' then 2
            when overrides.scope_city is null then 3
            else 4
        end as precedence,
        overrides.reason
    from scope_keys
    inner join overrides
        on scope_keys.kpi_code = overrides.kpi_code
        and scope_keys.region_code <> 'JS'
        and (
            -- a city override holds for the city and for every finer scope in it
            (overrides.scope_type = 'city' and overrides.scope_value = scope_keys.region_code)
            or (
                overrides.scope_type <> 'city'
                and overrides.scope_type = scope_keys.scope_type
                and overrides.scope_value = scope_keys.scope_value
                and coalesce(overrides.scope_city, scope_keys.region_code) = scope_keys.region_code
            )
        )

),

candidates as (

    select * from catalog_candidates
    union all
    select * from override_candidates

),

breakpoints as (

    -- the days on which the resolution of a key may change
    select distinct kpi_code, region_code, scope_type, scope_value, valid_from
    from candidates

),

resolved as (

    select
        breakpoints.kpi_code,
        breakpoints.region_code,
        breakpoints.scope_type,
        breakpoints.scope_value,
        breakpoints.valid_from,
        candidates.target,
        candidates.red_threshold,
        candidates.target_source,
        case when candidates.target_source <> 'catalog' then candidates.valid_from end
            as version_valid_from,
        candidates.reason
    from breakpoints
    inner join candidates
        on breakpoints.kpi_code = candidates.kpi_code
        and breakpoints.region_code = candidates.region_code
        and breakpoints.scope_type = candidates.scope_type
        and breakpoints.scope_value = candidates.scope_value
        and candidates.valid_from <= breakpoints.valid_from
    qualify row_number() over (
        partition by
            breakpoints.kpi_code, breakpoints.region_code, breakpoints.scope_type,
            breakpoints.scope_value, breakpoints.valid_from
        order by candidates.precedence desc, candidates.valid_from desc
    ) = 1

),

with_previous as (

    select
        *,
        row_number() over keyed as interval_number,
        lag(target_source) over keyed as previous_source,
        lag(version_valid_from) over keyed as previous_version_valid_from
    from resolved
    window keyed as (
        partition by kpi_code, region_code, scope_type, scope_value order by valid_from
    )

),

changes as (

    -- drop a breakpoint where the winning version stays the same (e.g. a new city version
    -- under a finer scope that still wins): one interval per version in force
    select *
    from with_previous
    where interval_number = 1
        or previous_source <> target_source
        or previous_version_valid_from is distinct from version_valid_from

),

final as (

    select
        kpi_code,
        region_code,
        scope_type,
        scope_value,
        valid_from,
        coalesce(
            lead(valid_from) over (
                partition by kpi_code, region_code, scope_type, scope_value order by valid_from
            ),
            date '9999-12-31'
        ) as valid_to,
        target,
        red_threshold,
        target_source,
        version_valid_from,
        reason
    from changes

)

select * from final
