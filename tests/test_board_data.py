"""The board's data access on a hand-made published copy: what only a new copy can change is
read once per copy, a newly published copy is read at once, and a value the query cannot take
is refused with a ValueError (the board's bad-input message), never a traceback."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.publish import board_path, publish_board_copy
from dagster_project.lib.settings import Settings
from dashboards import data
from dashboards.app import create_app
from dashboards.data import issues, kpi_detail, kpis

CITIES = [("NJ", "南京", "Nanjing"), ("SZ", "苏州", "Suzhou")]


def publish(home: Path, cities: list[tuple[str, str, str]]) -> None:
    """A warehouse with dim_cities only, published the way a run publishes it."""
    warehouse = home / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create or replace table dim_cities (city_code varchar, city_name_zh varchar, "
                "city_name_en varchar)")
    con.executemany("insert into dim_cities values (?, ?, ?)", cities)
    con.close()
    publish_board_copy(warehouse, board_path(home))


@pytest.fixture
def home(tmp_path):
    found = tmp_path / "home"
    found.mkdir()
    return found


@pytest.fixture
def app(home, tmp_path):
    return create_app(Settings(home=home, inbox=tmp_path / "inbox"), secret_key="test")


@pytest.fixture
def counted(monkeypatch):
    """The SQL statements the data package sends to DuckDB."""
    sent: list[str] = []
    execute = data._execute

    def counting(sql, params, fetch):
        sent.append(sql)
        return execute(sql, params, fetch)
    monkeypatch.setattr(data, "_execute", counting)
    return sent


def test_a_copy_swapped_in_by_a_run_is_read_at_once_and_a_reader_in_flight_keeps_its_own(
        app, home):
    count = "select count(*) from dim_cities"
    publish(home, CITIES)
    with app.server.test_request_context():
        assert data.rows(count) == [(2,)]
        with data.cursor() as reading:  # a request that began before the swap
            publish(home, [*CITIES, ("WX", "无锡", "Wuxi")])
            assert data.rows(count) == [(3,)]
            assert reading.execute(count).fetchall() == [(2,)]
        publish(home, CITIES[:1])
        assert data.rows(count) == [(1,)]


def test_a_reference_read_is_asked_once_per_published_copy(app, home, counted):
    publish(home, CITIES)
    with app.server.test_request_context():
        first = kpis.regions()
        assert kpis.regions() == first
        assert [c for c, _, _ in first] == ["JS", "NJ", "SZ"]
        assert len(counted) == 1  # the second request was answered from the first

        publish(home, [*CITIES, ("WX", "无锡", "Wuxi")])  # a run publishes a new copy
        assert [c for c, _, _ in kpis.regions()] == ["JS", "NJ", "SZ", "WX"]
        assert len(counted) == 2


def test_what_is_shared_between_requests_cannot_be_changed_by_one(app, home):
    publish(home, CITIES)
    with app.server.test_request_context():
        names = issues.region_names()
        assert names["NJ"] == ("南京", "Nanjing")
        assert names["JS"] == ("江苏省", "Jiangsu province")
        with pytest.raises(TypeError):
            names["NJ"] = ("x", "y")  # type: ignore[index]
        assert isinstance(kpis.regions(), tuple)


def test_a_value_a_query_cannot_take_is_refused_as_bad_input(app, home):
    publish(home, CITIES)
    with app.server.test_request_context():
        with pytest.raises(ValueError, match="drill_levels: a value the query cannot take"):
            kpi_detail.drill_levels(["K02"])  # a list where a KPI code belongs
        with pytest.raises(ValueError, match="kpi_info: a value the query cannot take"):
            kpi_detail.kpi_info({"code": "K02"})


def test_before_the_first_run_the_reads_say_there_is_no_copy(app):
    with app.server.test_request_context(), pytest.raises(data.NoBoardData):
        kpis.regions()
