{#
    ln P(X >= k) for X ~ Binomial(n, q), in log space: a big spike's p-value (1e-300 and
    below) does not underflow, so its score -log10(p) stays exact.

    P = sum over i = k..n of T(i), T(i) = C(n, i) q^i (1 - q)^(n - i). Only for k > n q (the
    observed count above its expectation; the hotspot model asks for nothing else): there
    the terms fall from i = k on, each at most (n - k) q / ((k + 1)(1 - q)) times the one
    before, so
        ln P = ln T(k) + ln sum_{j = 0 .. J - 1} T(k + j) / T(k)
    with J = min(n - k + 1, `terms`). Cut after 200 terms the relative error is below
    ratio^200: under 1e-9 once k is 1.1 times its expectation (a hotspot needs 1.5 times).
    tests/test_hotspot_stats.py checks it against exact sums in Python.
    `k`, `n`, `q` must be columns or simple expressions: they are repeated.
#}
{% macro binomial_upper_tail_ln(k, n, q, terms=200) -%}
    (
        lgamma({{ n }} + 1) - lgamma({{ k }} + 1) - lgamma({{ n }} - {{ k }} + 1)
        + {{ k }} * ln({{ q }}) + ({{ n }} - {{ k }}) * ln(1 - {{ q }})
        + ln(list_sum(list_transform(
            generate_series(0, least({{ n }} - {{ k }}, {{ terms - 1 }})),
            lambda j: exp(lgamma({{ k }} + 1) - lgamma({{ k }} + j + 1)
                          + lgamma({{ n }} - {{ k }} + 1) - lgamma({{ n }} - {{ k }} - j + 1)
                          + j * (ln({{ q }}) - ln(1 - {{ q }}))))))
    )
{%- endmacro %}
