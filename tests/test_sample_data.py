"""Tests of the synthetic inbox generator (tiny scale, few days, in tmp_path)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from dagster_project.lib.extracts import ENTITIES, match_file_name
from tools.sample_data import generate, main

TINY = 0.0005
START = date(2026, 9, 28)  # spans the September / October boundary
DAYS = 5
SPEC_CITY = Path("/work/shared/spec/reference/ref_city.csv")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _read(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    text = raw.decode("gb18030" if path.name.startswith("crm_") else "utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return out, generate(out, start=START, days=DAYS, scale=TINY, seed=7, faults=False)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    out = tmp_path_factory.mktemp("faulty")
    return out, generate(out, start=START, days=DAYS, scale=TINY, seed=7, faults=True)


def test_deterministic(tmp_path, faulty):
    out, _ = faulty
    generate(tmp_path, start=START, days=DAYS, scale=TINY, seed=7, faults=True)
    a = sorted(p.name for p in out.iterdir())
    assert a == sorted(p.name for p in tmp_path.iterdir())
    for name in a:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_other_seed_differs(tmp_path, clean):
    out, _ = clean
    generate(tmp_path, start=START, days=DAYS, scale=TINY, seed=8, faults=False)
    assert (out / "cc_call_20260930.csv").read_bytes() != (tmp_path / "cc_call_20260930.csv").read_bytes()


def test_every_entity_file_with_registry_header(clean):
    out, summary = clean
    dates = [START + timedelta(days=i) for i in range(DAYS)]
    for ent in ENTITIES:
        if ent.kind == "daily":
            names = [f"{ent.prefix}_{d:%Y%m%d}.csv" for d in dates]
        elif ent.kind == "monthly":
            names = [f"{ent.prefix}_202609.csv"]
        else:
            names = [f"{ent.prefix}.csv"]
        for name in names:
            path = out / name
            assert path.exists(), name
            assert match_file_name(name).entity == ent
            rows = _read(path)
            assert rows[0] == list(ent.column_names), name
            assert all(len(r) == len(ent.column_names) for r in rows[1:]), name
            raw = path.read_bytes()
            assert raw.endswith(b"\n") and b"\r\n" not in raw, name
        assert summary["entities"][ent.prefix]["files"] == len(names)
    # every file in the inbox matches a pattern of the spec
    assert all(match_file_name(p.name) for p in out.iterdir())


def test_reference_data(clean):
    out, _ = clean
    cities = _read(out / "ref_city.csv")
    if SPEC_CITY.exists():
        assert cities == list(csv.reader(io.StringIO(SPEC_CITY.read_text(encoding="utf-8-sig"))))
    assert len(cities) == 14
    city_codes = {r[0] for r in cities[1:]}
    districts = _read(out / "ref_district.csv")[1:]
    assert {r[3] for r in districts} == {"urban", "rural"} and {r[1] for r in districts} == city_codes
    stores = _read(out / "ref_store.csv")[1:]
    assert {r[4] for r in stores} == {"flagship", "standard", "community"}
    assert len({r[1] for r in stores}) == len(stores)  # unique Chinese names
    assert {r[2] for r in stores} == city_codes
    teams = _read(out / "ref_team.csv")[1:]
    hotline = [t for t in teams if t[3] == "hotline"]
    assert 2 <= len({t[4] for t in hotline}) <= 3 and all(t[4] == "" for t in teams if t[3] == "field")
    agents = _read(out / "ref_agent.csv")[1:]
    assert {a[1] for a in agents} == {t[0] for t in hotline}


def test_crm_files_are_gb18030_with_chinese(clean):
    out, _ = clean
    crm = sorted(out.glob("crm_*.csv"))
    assert crm
    for path in crm:
        path.read_bytes().decode("gb18030")  # strict: raises if not GB18030
    complaint = (out / "crm_complaint_20261001.csv").read_bytes()
    text = complaint.decode("gb18030")
    assert re.search(r"[\u4e00-\u9fff]", text)
    with pytest.raises(UnicodeDecodeError):
        complaint.decode("utf-8")  # really GB18030 bytes, not UTF-8
    # non-CRM files are UTF-8
    for path in out.glob("ref_*.csv"):
        path.read_bytes().decode("utf-8")


def test_complaint_summaries_need_rfc4180(tmp_path):
    generate(tmp_path, start=START, days=DAYS, scale=0.003, seed=3, faults=False)
    summaries = [r[6] for p in tmp_path.glob("crm_complaint_*.csv") for r in _read(p)[1:]]
    assert any("," in s for s in summaries)
    assert any('"' in s for s in summaries)
    assert any("\n" in s for s in summaries)


def test_values_follow_the_spec_when_clean(clean):
    out, _ = clean
    for ent in ENTITIES:
        ts_cols = [i for i, (_, t) in enumerate(ent.columns) if t == "timestamp"]
        for path in out.glob(f"{ent.prefix}*.csv"):
            for row in _read(path)[1:]:
                for i in ts_cols:
                    assert row[i] == "" or TS_RE.match(row[i]), (path.name, row)
    for path in out.glob("cc_call_*.csv"):
        for r in _read(path)[1:]:
            chain = [v for v in (r[3], r[5], r[6], r[7]) if v]
            assert chain == sorted(chain)
            if r[6]:
                assert r[5] and r[9]


def test_incremental_versions(clean):
    """A record created one day appears again later with a later updated_at."""
    out, _ = clean
    seen: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(out.glob("fo_work_order_*.csv")):
        for r in _read(path)[1:]:
            seen.setdefault(r[0], []).append((path.name, r[-1]))
    multi = [v for v in seen.values() if len({f for f, _ in v}) > 1]
    assert multi
    assert all(v[-1][1] > v[0][1] for v in multi)


def test_counts_scale_with_scale(tmp_path):
    a = generate(tmp_path / "a", start=START, days=3, scale=0.0005, seed=1, faults=False)
    b = generate(tmp_path / "b", start=START, days=3, scale=0.002, seed=1, faults=False)
    for prefix in ("cc_call", "net_speed_test", "crm_queue_ticket"):
        ratio = b["entities"][prefix]["rows"] / a["entities"][prefix]["rows"]
        assert 3.3 < ratio < 4.8, (prefix, ratio)
    assert a["entities"]["ref_city"]["rows"] == b["entities"]["ref_city"]["rows"] == 13


def test_month_boundary_and_monthly_files(clean):
    out, _ = clean
    months = {p.name.rsplit("_", 1)[1][:6] for p in out.glob("cc_call_*.csv")}
    assert months == {"202609", "202610"}
    # September has ended inside the window: its denominators are delivered;
    # October is the partial current month: they arrive late (absent).
    assert (out / "crm_subscriber_202609.csv").exists() and (out / "billing_bill_run_202609.csv").exists()
    assert not (out / "crm_subscriber_202610.csv").exists()
    assert not (out / "billing_bill_run_202610.csv").exists()
    subs = _read(out / "crm_subscriber_202609.csv")
    assert len(subs) == 1 + 13 * 3 and all(int(r[3]) > 0 for r in subs[1:])


def test_faults_only_with_faults(clean, faulty):
    out_c, sum_c = clean
    out_f, sum_f = faulty
    assert sum_c["faults"] == []
    assert all(p.stat().st_size > 0 for p in out_c.iterdir())
    assert b"vip2" not in b"".join(p.read_bytes() for p in out_c.glob("cc_call_*.csv"))

    kinds = " ".join(f["fault"] for f in sum_f["faults"])
    for word in ("duplicate", "clock skew", "enum not listed", "unknown", "unparseable timestamp",
                 "unparseable decimal", "empty key", "missing", "header-only", "zero-byte",
                 "truncated", "UTF-8 instead", "different order", "older version"):
        assert word in kinds, word
    names_c = {p.name for p in out_c.iterdir()}
    names_f = {p.name for p in out_f.iterdir()}
    assert len(names_c - names_f) == 1  # one day missing for one source
    assert any(p.stat().st_size == 0 for p in out_f.iterdir())
    utf8 = [f["file"] for f in sum_f["faults"] if "UTF-8 instead" in f["fault"]][0]
    with pytest.raises(UnicodeDecodeError):
        (out_f / utf8).read_bytes().decode("gb18030")
    # faulty rows stay rare
    n_fault_rows = sum(1 for f in sum_f["faults"] if f["line"] and f["line"] > 1)
    total = sum(e["rows"] for e in sum_f["entities"].values())
    assert n_fault_rows < 0.02 * total  # ~0.05 % in the committed sample; tiny runs keep every fault
    # the recorded line numbers point at the faulty records
    for f in sum_f["faults"]:
        if "vip2" in f["fault"]:
            lines = (out_f / f["file"]).read_text().split("\n")
            assert "vip2" in lines[f["line"] - 1]


def test_cli(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--days", "2", "--scale", "0.0002", "--seed", "5",
                 "--start", "2026-10-30", "--no-faults"]) == 0
    assert "files" in capsys.readouterr().out
    assert (tmp_path / "cc_call_20261031.csv").exists()


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    committed = Path(__file__).resolve().parents[1] / "data" / "sample"
    generate(tmp_path)  # the defaults are the committed sample's arguments
    made = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    assert made == {p.name: p.read_bytes() for p in committed.glob("*.csv")}
