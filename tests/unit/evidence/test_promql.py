"""bot.evidence.promql: the expression out of a Prometheus alert's generatorURL, and its
threshold when it is a plain top-level comparison with a number."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest

from bot.evidence.promql import Query, Threshold, base_url_of, expression_of, split_threshold


def prometheus_link(expr: str, host: str = "http://prometheus:9090") -> str:
    """As Prometheus builds it (web/ui: `/graph?g0.expr=<encodeURIComponent>&g0.tab=1`)."""
    return f"{host}/graph?g0.expr={quote(expr, safe='')}&g0.tab=1"


@pytest.mark.parametrize(
    "expr",
    [
        "ndcg_at_10 < 0.61",
        'sum by (model, version) (rate(http_requests_total{code=~"5..", job="ranker"}[5m])) > 0.5',
        "histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m]))) >= 0.25",
        "a + b",  # a literal +: %2B in the link
        'up{job="x & y"} == 0',
        "(sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))) > 0.05",
    ],
)
def test_the_expression_comes_back_from_the_link_as_written(expr: str) -> None:
    assert expression_of(prometheus_link(expr)) == expr


def test_a_plus_stays_a_plus_and_a_space_written_as_plus_is_a_space() -> None:
    link = "http://prom:9090/graph?g0.expr=rate(x%5B5m%5D)%2Brate(y%5B5m%5D)+%3E+1&g0.tab=1"
    assert expression_of(link) == "rate(x[5m])+rate(y[5m]) > 1"


def test_prometheus_s_own_generator_url_shape() -> None:
    # What Prometheus 2.x puts in an alert: the rule's expression, then g0.tab=1.
    link = (
        "http://prometheus-0:9090/graph?g0.expr=sum+by+%28service%29+%28rate%28ranker_errors_total"
        "%5B5m%5D%29%29+%2F+sum+by+%28service%29+%28rate%28ranker_requests_total%5B5m%5D%29%29+"
        "%3E+0.05&g0.tab=1"
    )
    expr = expression_of(link)
    assert expr == (
        "sum by (service) (rate(ranker_errors_total[5m])) / "
        "sum by (service) (rate(ranker_requests_total[5m])) > 0.05"
    )
    assert split_threshold(expr) == Query(
        expr="sum by (service) (rate(ranker_errors_total[5m])) / "
        "sum by (service) (rate(ranker_requests_total[5m]))",
        threshold=Threshold(op=">", value=0.05),
    )


@pytest.mark.parametrize(
    "link",
    [
        None,
        "",
        "http://prom:9090/graph",
        "http://prom:9090/graph?g0.tab=1",
        "http://prom:9090/graph?g0.expr=&g0.tab=1",
        "https://grafana.example/alerting/grafana/abc123/view?orgId=1",
        "http://[::1/graph?g0.expr=up",  # not a URL
    ],
)
def test_no_expression_without_one(link: str | None) -> None:
    assert expression_of(link) is None


@pytest.mark.parametrize(
    ("link", "base"),
    [
        ("http://prom:9090/graph?g0.expr=up", "http://prom:9090"),
        (
            "https://metrics.example.com/prometheus/graph?g0.expr=up",
            "https://metrics.example.com/prometheus",
        ),
        ("http://admin:hunter2@prom:9090/graph?g0.expr=up", "http://prom:9090"),  # no credentials
        ("http://[::1]:9090/graph?g0.expr=up", "http://[::1]:9090"),
        ("ftp://prom/graph?g0.expr=up", None),
    ],
)
def test_the_prometheus_a_link_names(link: str, base: str | None) -> None:
    assert base_url_of(link) == base


@pytest.mark.parametrize(
    ("expr", "query", "op", "value"),
    [
        ("rate(errors_total[5m]) > 0.5", "rate(errors_total[5m])", ">", 0.5),
        ("queue_depth <= 3", "queue_depth", "<=", 3.0),
        ("ndcg_at_10 < 0.05", "ndcg_at_10", "<", 0.05),
        ("x >= 3", "x", ">=", 3.0),
        ("x > -1.5e-3", "x", ">", -0.0015),
        (
            'sum by (pod) (rate(x{a="<", b=">"}[5m])) > 2',
            'sum by (pod) (rate(x{a="<", b=">"}[5m]))',
            ">",
            2.0,
        ),
        ("(a / b) > 0.1", "(a / b)", ">", 0.1),
        ("a / on(job) b > 0.1", "a / on(job) b", ">", 0.1),
    ],
)
def test_a_top_level_comparison_with_a_number_is_the_threshold(
    expr: str, query: str, op: str, value: float
) -> None:
    assert split_threshold(expr) == Query(expr=query, threshold=Threshold(op=op, value=value))


@pytest.mark.parametrize(
    "expr",
    [
        "rate(x[5m])",  # no comparison
        "sum(x > 0.5)",  # inside a function
        "max_over_time((x > 0.5)[10m:])",  # inside a subquery
        "x > bool 0.5",  # bool: a 0/1 series, not a filter
        "x > on(job) y",  # compared to a series
        "x > y",
        "x > 0.5 and y",  # a set operator: which side alerts?
        "x > 0.5 or vector(0)",
        "x > 0.5 unless y",
        "0.5 < x",  # a number on the left: not read
        "1 > 0",
        "x > 0.5 < 2",  # two comparisons
        "x == 0",  # a filter on a value, not a line
        "x != 1",
        "x > 0.5 # a comment",
        "x > 0.5 * 2",
        "x > Inf",
        'x{a="unclosed} > 1',
        "sum(x > 1",
    ],
)
def test_no_threshold_when_it_is_not_a_plain_top_level_comparison(expr: str) -> None:
    assert split_threshold(expr) == Query(expr=expr.strip(), threshold=None)


def test_an_operator_inside_a_string_or_matcher_is_no_comparison() -> None:
    assert split_threshold('count(up{job=~"a|b", env!="prod"})') == Query(
        expr='count(up{job=~"a|b", env!="prod"})'
    )
    assert split_threshold('label_replace(x, "a", \'>1\', "b", "(.*)") < 1').threshold == (
        Threshold(op="<", value=1.0)
    )


def test_an_encoded_link_round_trip_with_a_threshold() -> None:
    link = "http://prom:9090/graph?" + urlencode(
        {"g0.expr": "errors:ratio5m >= 0.02", "g0.tab": "1"}
    )
    expr = expression_of(link)
    assert expr is not None
    assert split_threshold(expr).threshold == Threshold(op=">=", value=0.02)
    assert Threshold(op=">=", value=0.02).label == "threshold >= 0.02"
