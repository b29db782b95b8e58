{#
    Two-sided p-value of a standard normal test statistic z: 2 x (1 - Phi(|z|)).

    DuckDB has no erf or normal CDF, so the upper tail Q(x) = 1 - Phi(x), x >= 0, is the
    polynomial of Abramowitz & Stegun 26.2.17 (Zelen & Severo):
        Q(x) = phi(x) (b1 t + b2 t^2 + b3 t^3 + b4 t^4 + b5 t^5),  t = 1 / (1 + 0.2316419 x)
    with absolute error < 7.5e-8, so the p-value is off by < 1.5e-7, far below any
    significance level in use (tests/test_post_evaluation_stats.py checks it against
    Python's math.erfc over a grid of z). A null z gives a null p-value.
    `z` must be a column or a simple expression: it is repeated.
#}
{% macro normal_two_sided_p(z) -%}
    {%- set t = "(1.0 / (1.0 + 0.2316419 * abs(" ~ z ~ ")))" -%}
    case when ({{ z }}) is not null then
        -- least() ignores nulls, hence the case; at z = 0 the polynomial gives 0.99999985
        least(1.0, 2.0 * exp(-0.5 * ({{ z }}) * ({{ z }})) / sqrt(2.0 * pi())
            * {{ t }} * (0.319381530 + {{ t }} * (-0.356563782 + {{ t }} * (1.781477937
            + {{ t }} * (-1.821255978 + {{ t }} * 1.330274429)))))
    end
{%- endmacro %}
