"""Deterministic, seeded, vectorized synthetic inbox for QualityLoop.

Produces exactly the upstream interface of shared/spec/source-extracts.md: reference
snapshots, one incremental file per daily entity per business date, and the monthly
denominators of every month that has ended inside the window (the partial last month's
arrive late, so they are absent). File names, headers and column order come from the
entity registry (`extracts.ENTITIES`).

Everything is generated with numpy on whole arrays (no per-row Python loops over the
bulk data) and serialized with pyarrow compute kernels; only the handful of planted
fault rows are touched in Python. All randomness comes from one `numpy.random.Generator`
seeded from `seed`: the clean data is drawn first, the fault plan afterwards, so the clean
records are identical with and without `faults`. Same arguments -> byte-identical files.

Planted incidents and faults are documented in docs/sample-data.md.

    python -m tools.sample_data --out data/sample
    python -m tools.sample_data --out /tmp/x --days 7 --scale 1.0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.lib.extracts import ENTITY_BY_PREFIX, Entity
# Shared with the spike planter (sample_hotspots.py), which this module calls: they live
# in a module of their own so that neither imports the other.
from .sample_profiles import (
    CITIES, DAY, H_CALLS, H_DAYTIME, HOUR, SAMPLE_SCALE,
)

DEFAULT_START = date(2026, 9, 22)
DEFAULT_DAYS = 48
DEFAULT_SEED = 20261122
MINUTE = 60
NULL = -1  # null marker for timestamps / codes / numbers (all real values are >= 0)

# --------------------------------------------------------------------------- reference

CITY_CODES = tuple(c[0] for c in CITIES)
CITY_INDEX = {c: i for i, c in enumerate(CITY_CODES)}
N_CITIES = len(CITIES)

# Districts per city: urban districts first, then rural counties / county-level cities.
DISTRICTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "NJ": (("玄武区", "秦淮区", "建邺区", "鼓楼区", "栖霞区", "雨花台区", "江宁区"), ("浦口区", "六合区", "溧水区", "高淳区")),
    "WX": (("梁溪区", "滨湖区", "新吴区", "锡山区", "惠山区"), ("江阴市", "宜兴市")),
    "XZ": (("鼓楼区", "云龙区", "泉山区", "铜山区"), ("贾汪区", "丰县", "沛县", "睢宁县", "新沂市", "邳州市")),
    "CZ": (("天宁区", "钟楼区", "新北区", "武进区"), ("金坛区", "溧阳市")),
    "SZ": (("姑苏区", "虎丘区", "吴中区", "相城区", "吴江区", "工业园区"), ("常熟市", "张家港市", "昆山市", "太仓市")),
    "NT": (("崇川区", "通州区", "海门区"), ("如东县", "启东市", "如皋市", "海安市")),
    "LYG": (("连云区", "海州区", "赣榆区"), ("东海县", "灌云县", "灌南县")),
    "HA": (("清江浦区", "淮安区", "淮阴区"), ("洪泽区", "涟水县", "盱眙县", "金湖县")),
    "YC": (("亭湖区", "盐都区", "大丰区"), ("响水县", "滨海县", "阜宁县", "射阳县", "建湖县", "东台市")),
    "YZ": (("广陵区", "邗江区", "江都区"), ("宝应县", "仪征市", "高邮市")),
    "ZJ": (("京口区", "润州区", "丹徒区"), ("丹阳市", "扬中市", "句容市")),
    "TZ": (("海陵区", "高港区", "姜堰区"), ("兴化市", "靖江市", "泰兴市")),
    "SQ": (("宿城区", "宿豫区"), ("沭阳县", "泗阳县", "泗洪县")),
}
STREETS = ("中山路", "人民路", "解放路", "建设路", "新华路", "和平路", "文化路", "青年路",
           "府前路", "长江路", "黄河路", "学府路", "东风路", "淮海路", "友谊路", "工农路")
SITES = (("CC01", "南京", "NJ"), ("CC02", "苏州", "SZ"), ("CC03", "徐州", "XZ"))
HOTLINE_TEAMS_PER_SITE = 8
AGENTS_PER_TEAM = 30
TECHS_PER_TEAM = 12

# ------------------------------------------------------------------------------ enums

TICKET_BUSINESS = ("activation", "payment", "broadband", "complaint", "device", "other")
TICKET_STATUS = ("waiting", "served", "abandoned")
COMPLAINT_CHANNEL = ("hotline", "store", "online", "regulator")
COMPLAINT_CATEGORY = ("mobile_network", "broadband", "billing", "service_attitude", "product", "other")
COMPLAINT_SEVERITY = ("normal", "urgent")
COMPLAINT_STATUS = ("open", "closed", "cancelled")
SURVEY_CONTACT = ("hotline", "store", "install", "repair", "complaint")
SUB_PRODUCT = ("mobile", "broadband", "fixed")
DISPUTE_OUTCOME = ("billing_error", "no_error", "withdrawn")
DISPUTE_STATUS = ("open", "resolved")
REFUND_STATUS = ("pending", "completed", "rejected")
SKILL_GROUP = ("general", "broadband", "billing", "mobile", "vip")
WO_TYPE = ("install", "repair")
AREA_TYPE = ("urban", "rural")
WO_STATUS = ("open", "completed", "cancelled")
FAULT_CAUSE = ("fiber_cut", "onu_fault", "config", "customer_side", "no_fault_found")
SPEED_METHOD = ("wired_app", "wifi_app", "probe", "technician")

# ---------------------------------------------------------------- volumes at scale 1.0
# New records per day at scale 1.0 (rows per day are higher where records have versions).
BASE_CALLS = 375_000          # + ~6-7 % repeat calls -> ~400k rows
BASE_TICKETS = 150_000
BASE_TESTS = 250_000
BASE_INSTALLS = 14_000
BASE_REPAIRS = 19_000         # work orders ~60k rows with their update versions
BASE_COMPLAINTS = 8_300       # ~15k rows with their closing versions
BASE_STANDALONE_REFUNDS = 700
SURVEY_SHARE = {"hotline": 0.12, "store": 0.15, "install": 0.55, "repair": 0.40, "complaint": 0.60}
# Denominators are derived so that K06 / K09 sit around their targets.
K06_DESIGN = 11.0             # complaints per 10k subscribers per month (target 15)
K09_DESIGN = 3.5              # disputes per 10k bills (target 5)
DAYS_PER_MONTH = 30.4
SUBS_TOTAL = BASE_COMPLAINTS * DAYS_PER_MONTH / (K06_DESIGN / 1e4)
PRODUCT_SHARE = (0.72, 0.18, 0.10)
BILLS_PER_SUB = 0.45
BILL_DAY = 5                  # the monthly bill run is issued on the 5th

# Hour-of-day profiles (relative weights, 24 values; H_CALLS and H_DAYTIME in sample_profiles).
H_STORE = np.array([0] * 9 + [5, 9, 10, 8, 6, 8, 9, 9, 8, 6, 5, 3] + [0] * 3, dtype=float)
H_TESTS = np.array([2, 1, .6, .4, .4, .6, 1, 2, 3, 3.5, 3.5, 3.5, 4, 3.5, 3.5, 3.5, 4, 4.5, 5.5, 7, 8, 8, 6.5, 4])
H_OFFICE = np.array([0] * 8 + [3, 6, 7, 6, 3, 4, 6, 6, 5, 4, 2, 1, .5] + [0] * 3, dtype=float)

# Weekday factors (Monday first) and the National Day golden week factor.
W_CALLS = (1.12, 1.0, .98, .97, 1.0, .82, .75)
W_STORE = (.92, .9, .9, .92, .98, 1.3, 1.25)
W_TESTS = (1, 1, 1, 1, 1, 1.12, 1.15)
W_INSTALL = (1.05, 1, 1, 1, 1, .85, .8)
W_REPAIR = (1.08, 1, 1, 1, 1, .95, .95)
W_OFFICE = (1.1, 1, 1, 1, 1, .6, .5)

# ------------------------------------------------------------------------ incidents
INCIDENT_STORM_CITY = "YC"
INCIDENT_STORM_DAYS = (date(2026, 10, 14), 7)          # first day, length
INCIDENT_STORE_ID = "NJS01"                            # 南京新街口旗舰营业厅
INCIDENT_STORE_DAYS = (date(2026, 10, 12), 7)
INCIDENT_SPEED_CITY = "XZ"
INCIDENT_SPEED_DAYS = (date(2026, 10, 24), 10)         # drift, then stays degraded
INCIDENT_BILLING_CITY = "SZ"
INCIDENT_BILLING_MONTH = (2026, 10)


# ============================================================================ helpers

@dataclass
class Col:
    """A column of one entity, kept numeric until it is written.

    kind: ts (int64 epoch seconds, NULL=-1), int (NULL<0), dec2 (cents, NULL<0),
    cat (codes into `arg` labels, NULL=-1), id (arg = prefix str, or (labels, codes) for a
    per-row prefix; data = int numbers, NULL=-1), hex (uint64 -> 12 hex chars, arg=prefix),
    str (pyarrow string array, may need quoting).
    """

    kind: str
    data: Any
    arg: Any = None

    def take(self, idx: np.ndarray) -> "Col":
        if self.kind == "str":
            return Col("str", self.data.take(pa.array(idx)), self.arg)
        if self.kind == "id" and isinstance(self.arg, tuple):
            labels, codes = self.arg
            return Col("id", self.data[idx], (labels, codes[idx]))
        return Col(self.kind, self.data[idx], self.arg)


def _labels_take(labels, codes: np.ndarray) -> pa.Array:
    codes = np.asarray(codes)
    return pa.array(list(labels), pa.string()).take(pa.array(codes, pa.int64(), mask=codes < 0))


def _hex12(x: np.ndarray) -> pa.Array:
    x = np.asarray(x, dtype=np.uint64)
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    shifts = np.arange(44, -1, -4, dtype=np.uint64)
    m = digits[((x[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.intp)]
    n = len(x)
    offs = np.arange(0, 12 * (n + 1), 12, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offs), pa.py_buffer(np.ascontiguousarray(m).tobytes()))


def _fmt(col: Col) -> pa.Array:
    """Format one column as strings, NULL -> ''."""
    k, d = col.kind, col.data
    if k == "ts":
        d = np.asarray(d, np.int64)
        out = pa.array(d.astype("datetime64[s]"), mask=d < 0).cast(pa.string())
    elif k == "int":
        d = np.asarray(d, np.int64)
        out = pa.array(d, mask=d < 0).cast(pa.string())
    elif k == "dec2":
        d = np.asarray(d, np.int64)
        whole = pa.array(d // 100, mask=d < 0).cast(pa.string())
        frac = pc.utf8_lpad(pa.array(d % 100).cast(pa.string()), 2, "0")
        out = pc.binary_join_element_wise(whole, frac, ".")
    elif k == "cat":
        out = _labels_take(col.arg, d)
    elif k == "id":
        d = np.asarray(d, np.int64)
        nums = pa.array(d, mask=d < 0).cast(pa.string())
        prefix = _labels_take(*col.arg) if isinstance(col.arg, tuple) else pa.scalar(col.arg)
        out = pc.binary_join_element_wise(prefix, nums, "")
    elif k == "hex":
        out = pc.binary_join_element_wise(pa.scalar(col.arg), _hex12(d), "")
    elif k == "str":
        out = d
    else:  # pragma: no cover
        raise ValueError(k)
    return pc.fill_null(out, "")


_NEEDS_QUOTE = '[",\n\r]'


def _quote(arr: pa.Array) -> pa.Array:
    need = pc.match_substring_regex(arr, _NEEDS_QUOTE)
    if not pc.any(need).as_py():
        return arr
    quoted = pc.binary_join_element_wise(pa.scalar('"'), pc.replace_substring(arr, '"', '""'), pa.scalar('"'), "")
    return pc.if_else(need, quoted, arr)


def _serialize(columns: list[str], table: dict[str, pa.Array], quote_all: bool = False,
               quote_cols: set[str] = frozenset()) -> tuple[bytes, np.ndarray]:
    """RFC 4180 body + header; returns (utf-8 bytes, physical start line of each record)."""
    arrays = []
    for c in columns:
        a = table[c]
        if quote_all or c in quote_cols:
            a = _quote(a)
        arrays.append(a)
    header = (",".join(columns) + "\n").encode()
    n = len(arrays[0]) if arrays else 0
    if n == 0:
        return header, np.zeros(0, np.int64)
    lines = pc.binary_join_element_wise(*arrays, ",") if len(arrays) > 1 else arrays[0]
    lines = pc.binary_join_element_wise(lines, pa.scalar(""), "\n")
    lines = pa.concat_arrays([lines]) if lines.offset else lines
    offs = np.frombuffer(lines.buffers()[1], np.int32, count=n + 1)
    body = lines.buffers()[2].to_pybytes()[offs[0]:offs[n]]
    nl = np.asarray(pc.count_substring(lines, "\n"), np.int64)
    start_line = 2 + np.concatenate([[0], np.cumsum(nl)[:-1]])
    return header + body, start_line


def _mix64(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 finaliser: a deterministic 'hash' for ids derived from integers."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z & np.uint64((1 << 48) - 1)


def _epoch_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _yymmdd(t: np.ndarray) -> np.ndarray:
    days = (np.asarray(t, np.int64) // DAY).astype("datetime64[D]")
    y = days.astype("datetime64[Y]").astype(np.int64) + 1970
    m = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    return (y % 100) * 10000 + m * 100 + dd


def _daily_ids(t: np.ndarray) -> np.ndarray:
    """yymmdd * 10^7 + sequence number within the creation day (ordered by time)."""
    t = np.asarray(t, np.int64)
    order = np.argsort(t, kind="stable")
    day = t[order] // DAY
    starts = np.searchsorted(day, day, side="left")
    seq = np.empty(len(t), np.int64)
    seq[order] = np.arange(len(t)) - starts + 1
    return _yymmdd(t) * 10_000_000 + seq


class Ctx:
    """The calendar of one generation run."""

    def __init__(self, start: date, days: int, scale: float):
        self.start, self.days, self.scale = start, days, scale
        self.dates = [start + timedelta(days=i) for i in range(days)]
        self.end = self.dates[-1]
        self.dn = np.array([_epoch_day(d) for d in self.dates], np.int64)
        self.first_dn, self.last_dn = int(self.dn[0]), int(self.dn[-1])
        self.weekday = np.array([d.weekday() for d in self.dates])
        self.holiday = np.array([d.month == 10 and 1 <= d.day <= 7 for d in self.dates])
        # days since the latest bill run (bill day = BILL_DAY of each month); None before any
        self.since_bill = np.array([
            (d - date(d.year, d.month, BILL_DAY)).days if d.day >= BILL_DAY
            else (d - (date(d.year, d.month, 1) - timedelta(days=1)).replace(day=BILL_DAY)).days
            for d in self.dates])
        self.city_w = np.array([c[3] for c in CITIES])
        self.city_w = self.city_w / self.city_w.sum()

    def day_index(self, d: date) -> int | None:
        i = (d - self.start).days
        return i if 0 <= i < self.days else None

    def window(self, first: date, length: int) -> np.ndarray:
        """Boolean mask over days for an incident window."""
        return np.array([(d - first).days in range(length) for d in self.dates])

    def weekday_factor(self, w: tuple, holiday: float | None = None) -> np.ndarray:
        f = np.array([w[i] for i in self.weekday], float)
        if holiday is not None:
            f = np.where(self.holiday, holiday, f)
        return f


def _arrivals(rng, ctx: Ctx, base: float, factor: np.ndarray, hours: np.ndarray):
    """Poisson counts per (day, city), then a time of day from an hour profile.

    factor: (days,) or (days, cities). Returns (day_idx, city_idx, epoch seconds).
    """
    factor = np.asarray(factor, float)
    if factor.ndim == 1:
        factor = factor[:, None]
    lam = base * ctx.scale * ctx.city_w[None, :] * factor
    counts = rng.poisson(lam)
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    day_idx, city_idx = cell // N_CITIES, cell % N_CITIES
    p = hours / hours.sum()
    hour = rng.choice(24, size=cell.size, p=p)
    t = ctx.dn[day_idx] * DAY + hour * HOUR + rng.integers(0, HOUR, cell.size)
    return day_idx, city_idx, t


def _pick(rng, probs, n) -> np.ndarray:
    probs = np.asarray(probs, float)
    return rng.choice(len(probs), size=n, p=probs / probs.sum())


def _versions(events: list[np.ndarray], ctx: Ctx):
    """Daily versions of records whose fields appear over time (incremental extracts).

    events[0] is the creation time (always set); later entries are change times (NULL=-1).
    A record appears in the file of every date on which it was created or changed, with
    the state as of the end of that date. Returns (record index, cutoff seconds, file day,
    updated_at), ordered by file day, updated_at, record.
    """
    e = np.stack([np.asarray(x, np.int64) for x in events], axis=1)
    n, k = e.shape
    d = np.where(e >= 0, e // DAY, np.int64(1) << 40)
    rec = np.repeat(np.arange(n, dtype=np.int64), k)
    dd = d.ravel()
    ok = (dd >= ctx.first_dn) & (dd <= ctx.last_dn)
    key = np.unique(rec[ok] * 1_000_000 + (dd[ok] - ctx.first_dn))
    rec_v, day_v = key // 1_000_000, key % 1_000_000 + ctx.first_dn
    cutoff = (day_v + 1) * DAY
    ev = e[rec_v]
    upd = np.where((ev >= 0) & (ev < cutoff[:, None]), ev, -1).max(axis=1)
    order = np.lexsort((rec_v, upd, day_v))
    return rec_v[order], cutoff[order], day_v[order], upd[order]


def _vis(t: np.ndarray, cutoff: np.ndarray) -> np.ndarray:
    """The value of a timestamp field as seen at `cutoff` (NULL if it happens later)."""
    return np.where((t >= 0) & (t < cutoff), t, NULL)


@dataclass
class Table:
    """Rows of one entity with their file day (epoch day), sorted by file day."""

    entity: Entity
    cols: dict[str, Col]
    file_day: np.ndarray

    def __post_init__(self):
        missing = set(self.entity.column_names) - set(self.cols)
        assert not missing, (self.entity.prefix, missing)


# ========================================================================= reference

def _reference(rng):
    districts = []  # (code, city_idx, zh, area_type)
    for ci, code in enumerate(CITY_CODES):
        urban, rural = DISTRICTS[code]
        for j, name in enumerate(urban + rural):
            districts.append((f"{code}{j + 1:02d}", ci, name, "urban" if j < len(urban) else "rural"))
    stores = []  # (id, name, city_idx, district_code, level, weight)
    for ci, (code, zh, *_rest) in enumerate(CITIES):
        dists = [d for d in districts if d[1] == ci]
        urban = [d for d in dists if d[3] == "urban"]
        n_flag = 2 if code in ("NJ", "SZ") else 1
        size = CITIES[ci][3]
        n_std = int(round(3 + size * 0.6))
        n_com = int(round(2 + size * 0.5))
        streets = list(rng.permutation(len(STREETS)))
        k = 0
        for level, count in (("flagship", n_flag), ("standard", n_std), ("community", n_com)):
            for j in range(count):
                k += 1
                sid = f"{code}S{k:02d}"
                if level == "flagship":
                    dist = urban[j % len(urban)]
                    name = "南京新街口旗舰营业厅" if sid == INCIDENT_STORE_ID else f"{zh}{dist[2]}旗舰营业厅"
                    weight = 12.0 if sid == INCIDENT_STORE_ID else 7.0
                else:
                    pool = urban if level == "standard" and rng.random() < 0.7 else dists
                    dist = pool[int(rng.integers(len(pool)))]
                    street = STREETS[streets[k % len(STREETS)]]
                    name = (f"{zh}{dist[2]}{street}营业厅" if level == "standard"
                            else f"{zh}{dist[2]}{street}社区服务点")
                    weight = 3.0 if level == "standard" else 1.0
                stores.append((sid, name, ci, dist[0], level, weight))
    teams = []  # (id, name, city_idx, type, site)
    for d in districts:
        teams.append((f"F{d[0]}", f"{CITIES[d[1]][1]}{d[2]}装维班组", d[1], "field", ""))
    agents = []  # (agent_id, team_id, site index)
    aid = 10000
    for si, (site, site_zh, site_city) in enumerate(SITES):
        for j in range(HOTLINE_TEAMS_PER_SITE):
            tid = f"H{site[2:]}{j + 1:02d}"
            teams.append((tid, f"{site_zh}10000号客服{j + 1}班", CITY_INDEX[site_city], "hotline", site))
            for _ in range(AGENTS_PER_TEAM):
                aid += 1
                agents.append((f"A{aid}", tid, si))
    return districts, stores, teams, agents


def _ref_tables(districts, stores, teams, agents) -> dict[str, list[tuple]]:
    return {
        "ref_city": [(c[0], c[1], c[2]) for c in CITIES],
        "ref_district": [(d[0], CITY_CODES[d[1]], d[2], d[3]) for d in districts],
        "ref_store": [(s[0], s[1], CITY_CODES[s[2]], s[3], s[4]) for s in stores],
        "ref_team": [(t[0], t[1], CITY_CODES[t[2]], t[3], t[4]) for t in teams],
        "ref_agent": [(a[0], a[1]) for a in agents],
    }


# ======================================================================= daily entities

def _gen_tickets(rng, ctx: Ctx, stores) -> tuple[Table, dict]:
    f = ctx.weekday_factor(W_STORE, holiday=1.35)
    day_idx, city_idx, t0 = _arrivals(rng, ctx, BASE_TICKETS, f, H_STORE)
    n = len(t0)
    # store within the city, by store weight
    s_city = np.array([s[2] for s in stores])
    s_w = np.array([s[5] for s in stores])
    cum = np.zeros(len(stores))
    for ci in range(N_CITIES):
        m = s_city == ci
        cum[m] = ci + np.cumsum(s_w[m]) / s_w[m].sum()
    store = np.searchsorted(cum, city_idx + rng.random(n) * (1 - 1e-12), side="right")
    store = np.minimum(store, len(stores) - 1)
    level = np.array([{"flagship": 0, "standard": 1, "community": 2}[s[4]] for s in stores])[store]
    business = _pick(rng, (.2, .25, .15, .05, .2, .15), n)
    # waiting time: exponential around a mean that depends on store level, load and noise
    store_day_noise = rng.lognormal(0, 0.25, size=(len(stores), ctx.days))
    mean_wait = np.array([270.0, 200.0, 150.0])[level] * store_day_noise[store, day_idx]
    hour = (t0 % DAY) // HOUR
    mean_wait *= np.where((hour >= 10) & (hour < 12) | (hour >= 14) & (hour < 17), 1.25, 1.0)
    mean_wait *= np.where(ctx.weekday[day_idx] >= 5, 1.15, 1.0)
    inc_store = [s[0] for s in stores].index(INCIDENT_STORE_ID) if INCIDENT_STORE_ID in [s[0] for s in stores] else -1
    inc_days = ctx.window(*INCIDENT_STORE_DAYS)
    incident = (store == inc_store) & inc_days[day_idx]
    mean_wait = np.where(incident, 3600.0 * rng.lognormal(0, 0.15, n), mean_wait)
    wait = np.round(rng.exponential(1.0, n) * mean_wait).astype(np.int64) + 5
    patience = np.round(rng.exponential(2400.0, n)).astype(np.int64) + 60
    served = wait <= patience
    service = np.round(rng.exponential(420.0, n) + 120).astype(np.int64)
    called = np.where(served, t0 + wait, NULL)
    end = np.where(served, called + service, NULL)
    abandoned = np.where(served, NULL, t0 + patience)
    # a few tickets are left open by the counter system and closed by the nightly job
    stuck = (~served) & (rng.random(n) < 0.03)
    abandoned = np.where(stuck, (t0 // DAY + 1) * DAY + 2 * HOUR, abandoned)
    ids = _daily_ids(t0)
    rec, cutoff, fday, upd = _versions([t0, called, end, abandoned], ctx)
    ab_v = _vis(abandoned[rec], cutoff)
    called_v = _vis(called[rec], cutoff)
    status = np.where(ab_v >= 0, 2, np.where(called_v >= 0, 1, 0))
    cols = {
        "ticket_id": Col("id", ids[rec], "Q"),
        "store_id": Col("cat", store[rec], tuple(s[0] for s in stores)),
        "business_type": Col("cat", business[rec], TICKET_BUSINESS),
        "taken_at": Col("ts", t0[rec]),
        "called_at": Col("ts", called_v),
        "service_end_at": Col("ts", _vis(end[rec], cutoff)),
        "abandoned_at": Col("ts", ab_v),
        "status": Col("cat", status, TICKET_STATUS),
        "updated_at": Col("ts", upd),
    }
    contacts = {"id": ids[served], "city": city_idx[served], "end": end[served],
                "bad": (wait[served] > 900)}
    return Table(ENTITY_BY_PREFIX["crm_queue_ticket"], cols, fday), contacts


def _call_outcome(rng, ctx: Ctx, city_idx, arrived, force_queue, pressure_day):
    n = len(arrived)
    ivr = np.round(20 + rng.exponential(60.0, n)).astype(np.int64)
    ivr_exit = arrived + ivr
    queued = force_queue | (rng.random(n) < 0.78)
    q = np.where(queued, ivr_exit + rng.integers(0, 3, n), NULL)
    # queue pressure: hour-of-day load, weekday, bill-day surge, noise per site-day-hour
    dayi = np.clip((arrived // DAY) - ctx.first_dn, 0, ctx.days - 1)
    hour = (arrived % DAY) // HOUR
    site = np.array([c[5] for c in CITIES])[city_idx]
    noise = pressure_day["noise"][site, dayi, hour]
    m = 6.5 * pressure_day["day"][dayi] * noise * np.where((hour >= 9) & (hour < 12) | (hour >= 14) & (hour < 17), 1.25, 1.0)
    wait = np.round(rng.exponential(1.0, n) * m).astype(np.int64) + 2
    patience = np.round(rng.exponential(130.0, n)).astype(np.int64)
    answered = queued & (wait <= patience)
    ans = np.where(answered, q + wait, NULL)
    talk = np.round(rng.exponential(240.0, n) + 30).astype(np.int64)
    ended = np.where(answered, ans + talk, np.where(queued, q + patience, ivr_exit))
    return ivr_exit, q, ans, ended, wait, answered


def _gen_calls(rng, ctx: Ctx, agents) -> tuple[Table, dict]:
    bill1 = ctx.since_bill == 1
    bill2 = ctx.since_bill == 2
    f = ctx.weekday_factor(W_CALLS, holiday=0.78) * np.where(bill1, 1.4, np.where(bill2, 1.2, 1.0))
    day_idx, city_idx, arrived = _arrivals(rng, ctx, BASE_CALLS, f, H_CALLS)
    pressure = {
        "day": np.where(bill1, 4.5, np.where(bill2, 3.0, 1.0)) * np.where(ctx.weekday == 0, 1.15, 1.0),
        "noise": rng.lognormal(0, 0.18, size=(len(SITES), ctx.days, 24)),
    }
    n0 = len(arrived)
    ivr_exit, q, ans, ended, wait, answered = _call_outcome(rng, ctx, city_idx, arrived, np.zeros(n0, bool), pressure)
    # pool of callers per city, large enough that chance repeats are rare
    pool = max(2000, int(BASE_CALLS * ctx.scale / N_CITIES * 150))
    caller = city_idx.astype(np.int64) * 10**9 + rng.integers(0, pool, n0)
    skill_p = np.array([.45, .2, .15, .15, .05])
    skill = _pick(rng, skill_p, n0)
    bill_days = (ctx.since_bill[day_idx] <= 3)
    skill = np.where(bill_days & (rng.random(n0) < 0.25), 2, skill)
    # repeat calls (first-contact resolution K04): the same caller calls again within 72 h
    rep_p = np.where(skill == 2, 0.12, 0.085) * np.where(wait > 60, 1.3, 1.0)
    spawn = np.flatnonzero(answered & (rng.random(n0) < rep_p))
    r_arr = ended[spawn] + rng.integers(20 * MINUTE, 70 * HOUR, len(spawn))
    r_city = city_idx[spawn]
    keep = (r_arr // DAY) <= ctx.last_dn
    spawn, r_arr, r_city = spawn[keep], r_arr[keep], r_city[keep]
    r = _call_outcome(rng, ctx, r_city, r_arr, np.ones(len(spawn), bool), pressure)
    arrived = np.concatenate([arrived, r_arr])
    city_idx = np.concatenate([city_idx, r_city])
    ivr_exit, q, ans, ended, wait, answered = (np.concatenate([a, b]) for a, b in zip((ivr_exit, q, ans, ended, wait, answered), r))
    caller = np.concatenate([caller, caller[spawn]])
    skill = np.concatenate([skill, skill[spawn]])
    n = len(arrived)
    site = np.array([c[5] for c in CITIES])[city_idx]
    a_site = np.array([a[2] for a in agents])
    site_start = np.searchsorted(a_site, np.arange(len(SITES)))
    site_count = np.bincount(a_site, minlength=len(SITES))
    agent = np.where(answered, site_start[site] + rng.integers(0, 1 << 30, n) % site_count[site], NULL)
    transferred = (answered & (rng.random(n) < 0.07)).astype(np.int64)
    ids = _daily_ids(arrived)
    fday = ended // DAY
    ok = (fday >= ctx.first_dn) & (fday <= ctx.last_dn)
    order = np.flatnonzero(ok)[np.lexsort((ids[ok], ended[ok]))]
    agent_ids = tuple(a[0] for a in agents)
    cols = {
        "call_id": Col("id", ids[order], "C"),
        "caller_id": Col("hex", _mix64(caller[order], 7), ""),
        "city_code": Col("cat", city_idx[order], CITY_CODES),
        "arrived_at": Col("ts", arrived[order]),
        "ivr_exit_at": Col("ts", ivr_exit[order]),
        "queue_entered_at": Col("ts", q[order]),
        "answered_at": Col("ts", ans[order]),
        "ended_at": Col("ts", ended[order]),
        "skill_group": Col("cat", skill[order], SKILL_GROUP),
        "agent_id": Col("cat", agent[order], agent_ids),
        "transferred": Col("int", transferred[order]),
    }
    contacts = {"id": ids[answered], "city": city_idx[answered], "end": ended[answered],
                "bad": wait[answered] > 60,
                "bill": (ctx.since_bill[np.clip(arrived[answered] // DAY - ctx.first_dn, 0, ctx.days - 1)] <= 2)}
    return Table(ENTITY_BY_PREFIX["cc_call"], cols, fday[order]), contacts


# Complaint summaries: opener by category + middle + ending (some with , " and line breaks)
_OPENERS = {
    "mobile_network": ("客户反映家中手机信号差", "用户称5G网络经常掉线", "客户投诉通话时断时续", "用户反映地下车库无信号"),
    "broadband": ("客户反映宽带晚上网速很慢", "用户称宽带频繁断网", "客户投诉光猫指示灯红灯闪烁", "用户反映IPTV播放卡顿"),
    "billing": ("客户对本月账单有异议", "用户称被多扣了流量费", "客户反映套餐外费用不明", "用户投诉退订后仍在扣费"),
    "service_attitude": ("客户投诉营业员态度冷淡", "用户称客服电话多次转接无人处理", "客户反映装维人员迟到且未提前告知", "用户投诉客服中途挂断电话"),
    "product": ("客户反映融合套餐与宣传不符", "用户反映权益包无法领取", "客户称合约机优惠未到账", "用户投诉副卡无法办理"),
    "other": ("客户要求查询历史工单", "用户反映营销短信过多", "客户对积分兑换规则有意见", "用户要求注销账户但被拒"),
}
_MIDDLES = ("，已多次联系未解决", "，要求尽快处理", "，情绪较激动", "，希望给予合理解释", "，已安排专人核查", "",
            ', 客户说"再不解决就向工信部投诉"', '，客户原话："你们到底管不管？"',
            ", 时间: 晚上8点到11点, 影响居家办公", "，诉求: 退还费用, 赔偿损失")
_MIDDLE_P = (.2, .2, .12, .12, .12, .12, .03, .03, .03, .03)
_ENDINGS = ("。", "。请相关部门尽快回复。", "。\n补充：客户第二次来电催办。", "。\n备注：已告知处理时限。")
_ENDING_P = (.6, .34, .03, .03)


def _gen_complaints(rng, ctx: Ctx, storm_mask, billing_mask) -> tuple[Table, dict]:
    f = ctx.weekday_factor((1.1, 1, 1, 1, 1, .8, .75), holiday=0.8)[:, None] * np.ones((1, N_CITIES))
    yc, sz = CITY_INDEX[INCIDENT_STORM_CITY], CITY_INDEX[INCIDENT_BILLING_CITY]
    base_day, base_city, t_base = _arrivals(rng, ctx, BASE_COMPLAINTS, f, H_DAYTIME)
    # incident extras: storm (broadband) and the Suzhou billing error (billing)
    extra_f = np.zeros((ctx.days, N_CITIES))
    extra_f[:, yc] = storm_mask * 0.9
    extra_f[:, sz] = billing_mask * 1.1
    x_day, x_city, t_x = _arrivals(rng, ctx, BASE_COMPLAINTS, extra_f, H_DAYTIME)
    n_b, n_x = len(t_base), len(t_x)
    cat = np.concatenate([_pick(rng, (.25, .3, .15, .12, .1, .08), n_b),
                          np.where(x_city == sz, 2, 1)])
    city = np.concatenate([base_city, x_city])
    t0 = np.concatenate([t_base, t_x])
    cust_pool = max(5000, int(BASE_COMPLAINTS * ctx.scale / N_CITIES * 2000))
    cust = city.astype(np.int64) * 10**9 + rng.integers(0, cust_pool, len(t0))
    # repeat complaints within 30 days (K08)
    spawn = np.flatnonzero(rng.random(len(t0)) < 0.03)
    r_t = t0[spawn] + rng.integers(6 * HOUR, 29 * DAY, len(spawn))
    t0 = np.concatenate([t0, r_t])
    city = np.concatenate([city, city[spawn]])
    cust = np.concatenate([cust, cust[spawn]])
    cat = np.concatenate([cat, cat[spawn]])
    n = len(t0)
    channel = _pick(rng, (.55, .15, .25, .05), n)
    urgent = (rng.random(n) < np.where(channel == 3, 0.7, 0.12)).astype(np.int64)
    deadline = np.where(urgent == 1, 24 * HOUR, 48 * HOUR)
    dayi = np.clip(t0 // DAY - ctx.first_dn, 0, ctx.days - 1)
    p_late = np.full(n, 0.03)
    p_late = np.where((city == sz) & billing_mask[dayi], 0.07, p_late)
    p_late = np.where((city == yc) & storm_mask[dayi], 0.08, p_late)
    late = rng.random(n) < p_late
    dur = np.where(late, deadline * (1 + rng.exponential(0.4, n)), deadline * rng.beta(2.0, 3.0, n))
    dur = np.maximum(dur, 20 * MINUTE).astype(np.int64)
    cancelled = rng.random(n) < 0.02
    closed = np.where(cancelled, NULL, _office_hours(rng, t0 + dur))
    cancel_t = np.where(cancelled, t0 + rng.integers(HOUR, 6 * HOUR, n), NULL)
    # summary text
    opener = cat * 4 + rng.integers(0, 4, n)
    openers = tuple(x for c in COMPLAINT_CATEGORY for x in _OPENERS[c])
    middle = _pick(rng, _MIDDLE_P, n)
    ending = _pick(rng, _ENDING_P, n)
    summary = pc.binary_join_element_wise(_labels_take(openers, opener), _labels_take(_MIDDLES, middle),
                                          _labels_take(_ENDINGS, ending), "")
    ids = _daily_ids(t0)
    rec, cutoff, fday, upd = _versions([t0, closed, cancel_t], ctx)
    closed_v = _vis(closed[rec], cutoff)
    status = np.where(_vis(cancel_t[rec], cutoff) >= 0, 2, np.where(closed_v >= 0, 1, 0))
    cols = {
        "complaint_id": Col("id", ids[rec], "TS"),
        "customer_id": Col("hex", _mix64(cust[rec], 11), "CU"),
        "city_code": Col("cat", city[rec], CITY_CODES),
        "channel": Col("cat", channel[rec], COMPLAINT_CHANNEL),
        "category": Col("cat", cat[rec], COMPLAINT_CATEGORY),
        "severity": Col("cat", urgent[rec], COMPLAINT_SEVERITY),
        "summary": Col("str", summary.take(pa.array(rec))),
        "created_at": Col("ts", t0[rec]),
        "closed_at": Col("ts", closed_v),
        "status": Col("cat", status, COMPLAINT_STATUS),
        "updated_at": Col("ts", upd),
    }
    done = ~cancelled
    contacts = {"id": ids[done], "city": city[done], "end": closed[done], "bad": late[done]}
    return Table(ENTITY_BY_PREFIX["crm_complaint"], cols, fday), contacts


def _bill_cycle_factor(ctx: Ctx) -> np.ndarray:
    s = ctx.since_bill.astype(float)
    shape = np.where(s >= 1, 1 + 1.6 * np.exp(-(s - 1) / 4.0), 0.7)
    return shape * ctx.weekday_factor(W_OFFICE)


def _monthly_bills(ctx: Ctx) -> np.ndarray:
    """bills issued per city per month at this scale (same numbers as the bill-run files)."""
    return SUBS_TOTAL * BILLS_PER_SUB * ctx.scale * ctx.city_w


def _gen_billing(rng, ctx: Ctx, billing_mask) -> tuple[Table, Table]:
    cyc = _bill_cycle_factor(ctx)
    cyc_norm = cyc / cyc.mean()
    per_day_scale1 = K09_DESIGN / 1e4 * SUBS_TOTAL * BILLS_PER_SUB / DAYS_PER_MONTH
    sz = CITY_INDEX[INCIDENT_BILLING_CITY]
    f = cyc_norm[:, None] * np.ones((1, N_CITIES))
    f[:, sz] *= np.where(billing_mask, 3.2, 1.0)
    day_idx, city, t0 = _arrivals(rng, ctx, per_day_scale1, f, H_OFFICE)
    n = len(t0)
    acct_pool = max(5000, int(SUBS_TOTAL * BILLS_PER_SUB * ctx.scale / N_CITIES))
    acct = city.astype(np.int64) * 10**9 + rng.integers(0, acct_pool, n)
    ym = (t0 // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    prev = rng.random(n) < 0.2
    bill_month = ym - prev.astype(np.int64)  # months since 1970-01
    amount = np.round(rng.lognormal(np.log(3500), 0.9, n)).astype(np.int64) + 100  # cents
    outcome = _pick(rng, (.3, .55, .15), n)
    sz_err = (city == sz) & billing_mask[day_idx]
    outcome = np.where(sz_err & (rng.random(n) < 0.7), 0, outcome)
    resolve = _office_hours(rng, t0 + np.round(rng.lognormal(np.log(3 * DAY), 0.6, n)).astype(np.int64))
    ids = _daily_ids(t0)
    rec, cutoff, fday, upd = _versions([t0, resolve], ctx)
    res_v = _vis(resolve[rec], cutoff)
    bm0 = int(bill_month.min()) if n else 0
    bm1 = int(bill_month.max()) if n else 0
    month_labels = tuple(f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in range(bm0, bm1 + 1))
    disputes = Table(ENTITY_BY_PREFIX["billing_dispute"], {
        "dispute_id": Col("id", ids[rec], "BD"),
        "account_id": Col("hex", _mix64(acct[rec], 13), "AC"),
        "city_code": Col("cat", city[rec], CITY_CODES),
        "bill_month": Col("cat", bill_month[rec] - bm0, month_labels),
        "amount": Col("dec2", amount[rec]),
        "raised_at": Col("ts", t0[rec]),
        "resolved_at": Col("ts", res_v),
        "outcome": Col("cat", np.where(res_v >= 0, outcome[rec], NULL), DISPUTE_OUTCOME),
        "status": Col("cat", (res_v >= 0).astype(np.int64), DISPUTE_STATUS),
        "updated_at": Col("ts", upd),
    }, fday)

    # refunds: one per billing-error dispute, plus refunds without a dispute
    err = np.flatnonzero(outcome == 0)
    r_t_d = resolve[err] + rng.integers(5 * MINUTE, 3 * HOUR, len(err))
    s_day, s_city, s_t = _arrivals(rng, ctx, BASE_STANDALONE_REFUNDS, ctx.weekday_factor(W_OFFICE), H_OFFICE)
    req = np.concatenate([r_t_d, s_t])
    m = len(req)
    r_city = np.concatenate([city[err], s_city])
    r_disp = np.concatenate([ids[err], np.full(len(s_t), NULL)])
    r_acct = np.concatenate([acct[err], s_city.astype(np.int64) * 10**9 + rng.integers(0, acct_pool, len(s_t))])
    r_amount = np.concatenate([amount[err], np.round(rng.lognormal(np.log(5000), 0.8, len(s_t))).astype(np.int64) + 100])
    rejected = rng.random(m) < 0.03
    late = rng.random(m) < 0.025
    dur = np.where(late, 72 * HOUR * (1 + rng.exponential(0.4, m)), 72 * HOUR * rng.beta(1.5, 4.0, m)).astype(np.int64) + 10 * MINUTE
    completed = np.where(rejected, NULL, _office_hours(rng, req + dur))
    reject_t = np.where(rejected, req + rng.integers(HOUR, 48 * HOUR, m), NULL)
    keep = (req // DAY) <= ctx.last_dn
    rids = np.full(m, NULL)
    rids[keep] = _daily_ids(req[keep])
    rec, cutoff, fday2, upd2 = _versions([np.where(keep, req, NULL), np.where(keep, completed, NULL),
                                          np.where(keep, reject_t, NULL)], ctx)
    comp_v = _vis(completed[rec], cutoff)
    status = np.where(_vis(reject_t[rec], cutoff) >= 0, 2, np.where(comp_v >= 0, 1, 0))
    refunds = Table(ENTITY_BY_PREFIX["billing_refund"], {
        "refund_id": Col("id", rids[rec], "RF"),
        "dispute_id": Col("id", r_disp[rec], "BD"),
        "account_id": Col("hex", _mix64(r_acct[rec], 13), "AC"),
        "city_code": Col("cat", r_city[rec], CITY_CODES),
        "amount": Col("dec2", r_amount[rec]),
        "requested_at": Col("ts", req[rec]),
        "completed_at": Col("ts", comp_v),
        "status": Col("cat", status, REFUND_STATUS),
        "updated_at": Col("ts", upd2),
    }, fday2)
    return disputes, refunds


def _line_numbers(city: np.ndarray, idx: np.ndarray) -> np.ndarray:
    area = np.array([c[4] for c in CITIES], np.int64)[city]
    return area * 10**8 + idx


def _office_hours(rng, t: np.ndarray) -> np.ndarray:
    """Back-office work happens 08:00-22:00: a night-time time moves to the same morning."""
    h = (t % DAY) // HOUR
    night = (t >= 0) & (h < 8)
    return np.where(night, (t // DAY) * DAY + 8 * HOUR + rng.integers(0, 90 * MINUTE, len(t)), t)


def _floor_to(t, step):
    return t - t % step


def _gen_work_orders(rng, ctx: Ctx, districts, storm_mask) -> tuple[Table, dict, dict]:
    yc = CITY_INDEX[INCIDENT_STORM_CITY]
    d_city = np.array([d[1] for d in districts])
    d_rural = np.array([d[3] == "rural" for d in districts])
    d_w = np.where(d_rural, 1.0, 2.2)
    cum = np.zeros(len(districts))
    for ci in range(N_CITIES):
        m = d_city == ci
        cum[m] = ci + np.cumsum(d_w[m]) / d_w[m].sum()
    line_pool = max(20000, int(BASE_TESTS * ctx.scale / N_CITIES * 40))

    def district_of(city):
        x = np.searchsorted(cum, city + rng.random(len(city)) * (1 - 1e-12), side="right")
        return np.minimum(x, len(districts) - 1)

    # ---- installs
    f_i = ctx.weekday_factor(W_INSTALL, holiday=0.6)
    _, i_city, i_t0 = _arrivals(rng, ctx, BASE_INSTALLS, f_i, H_OFFICE)
    ni = len(i_t0)
    i_dist = district_of(i_city)
    i_rural = d_rural[i_dist]
    lead = np.where(i_rural, rng.integers(3, 5, ni), rng.integers(2, 4, ni))
    i_day0 = i_t0 // DAY
    promised = (i_day0 + lead) * DAY + 20 * HOUR
    has_appt = rng.random(ni) < 0.9
    appt_day = i_day0 + rng.integers(1, lead + 1)
    slot = rng.choice(np.array([9, 11, 14, 16]) * HOUR, ni)
    a_start = appt_day * DAY + slot
    punctual = rng.random(ni) < 0.965
    arr_off = np.where(punctual, rng.integers(-14 * MINUTE, 90 * MINUTE, ni),
                       2 * HOUR + rng.integers(MINUTE, 90 * MINUTE, ni))
    no_appt_arr = (i_day0 + rng.integers(1, lead + 1)) * DAY + rng.integers(9 * HOUR, 16 * HOUR, ni)
    i_arr = np.where(has_appt, a_start + arr_off, no_appt_arr)
    i_comp = i_arr + rng.integers(45 * MINUTE, 120 * MINUTE, ni)
    delayed = rng.random(ni) < 0.025   # resource shortage: rescheduled past the promise
    delayed_arr = (i_day0 + lead + rng.integers(1, 3, ni)) * DAY + rng.integers(9 * HOUR, 17 * HOUR, ni)
    i_arr = np.where(delayed, delayed_arr, i_arr)
    i_comp = np.where(delayed, i_arr + rng.integers(50 * MINUTE, 150 * MINUTE, ni), i_comp)
    a_start = np.where(delayed, _floor_to(i_arr, HOUR) - HOUR, a_start)
    i_cancel = rng.random(ni) < 0.03
    i_cancel_t = np.where(i_cancel, i_t0 + rng.integers(2 * HOUR, 2 * DAY, ni), NULL)
    i_arr = np.where(i_cancel, NULL, i_arr)
    i_comp = np.where(i_cancel, NULL, i_comp)
    i_as = np.where(has_appt, a_start, NULL)
    i_ae = np.where(has_appt, a_start + 2 * HOUR, NULL)
    i_line = _line_numbers(i_city, line_pool + rng.integers(0, 10**7, ni))  # new lines

    # ---- repairs
    f_r = ctx.weekday_factor(W_REPAIR)[:, None] * np.ones((1, N_CITIES))
    storm_curve = np.zeros(ctx.days)
    si = np.flatnonzero(storm_mask)
    if len(si):
        storm_curve[si] = np.array([3.0, 2.2, 1.4, 0.9, 0.6, 0.4, 0.3])[:len(si)]
    f_r[:, yc] *= 1 + storm_curve
    _, r_city, r_t0 = _arrivals(rng, ctx, BASE_REPAIRS, f_r, H_DAYTIME)
    r_line_idx = rng.integers(0, line_pool, len(r_t0))
    # repeat faults (K14): the same line fails again within 30 days
    spawn = np.flatnonzero(rng.random(len(r_t0)) < 0.055)
    r_t0 = np.concatenate([r_t0, r_t0[spawn] + rng.integers(DAY, 29 * DAY, len(spawn))])
    r_city = np.concatenate([r_city, r_city[spawn]])
    r_line_idx = np.concatenate([r_line_idx, r_line_idx[spawn]])
    nr = len(r_t0)
    r_dist = district_of(r_city)
    r_rural = d_rural[r_dist]
    deadline = np.where(r_rural, 48 * HOUR, 24 * HOUR)
    dayi = np.clip(r_t0 // DAY - ctx.first_dn, 0, ctx.days - 1)
    in_storm = (r_city == yc) & storm_mask[dayi]
    storm_day = dayi - (int(np.flatnonzero(storm_mask)[0]) if storm_mask.any() else 0)
    p_late = np.where(in_storm, np.where(storm_day < 3, 0.75, 0.6), 0.035)
    late = rng.random(nr) < p_late
    dur = np.where(late, deadline * (1 + rng.exponential(0.5, nr)), deadline * rng.beta(1.6, 2.8, nr))
    dur = np.maximum(dur, 40 * MINUTE).astype(np.int64)
    r_comp = r_t0 + dur
    fix = rng.integers(25 * MINUTE, 110 * MINUTE, nr)
    r_arr = np.maximum(r_comp - fix, r_t0 + 15 * MINUTE)
    # technicians work 08:00-20:00: an arrival at night moves to the next morning
    h = (r_arr % DAY) // HOUR
    night = (h < 8) | (h >= 20)
    next_morning = (r_arr // DAY + (h >= 20)) * DAY + 8 * HOUR + rng.integers(0, 2 * HOUR, nr)
    r_arr = np.where(night, next_morning, r_arr)
    r_comp = np.maximum(r_comp, r_arr + fix)
    has_appt = rng.random(nr) < 0.55
    punctual = rng.random(nr) < np.where(in_storm, 0.8, 0.97)
    base_start = _floor_to(r_arr, 30 * MINUTE) - rng.integers(0, 3, nr) * 30 * MINUTE
    base_start = np.maximum(base_start, _floor_to(r_t0, 30 * MINUTE) + 30 * MINUTE)
    r_arr = np.where(has_appt & punctual, np.maximum(r_arr, base_start - 10 * MINUTE), r_arr)
    late_start = r_arr - 2 * HOUR - rng.integers(10, 90, nr) * MINUTE
    r_as = np.where(has_appt, np.where(punctual | (late_start <= r_t0), base_start, late_start), NULL)
    r_ae = np.where(has_appt, r_as + 2 * HOUR, NULL)
    r_comp = np.maximum(r_comp, r_arr + 10 * MINUTE)
    cause_p = np.array([.1, .3, .2, .25, .15])
    cause = _pick(rng, cause_p, nr)
    cause = np.where(in_storm & (rng.random(nr) < 0.6), 0, cause)
    r_cancel = rng.random(nr) < 0.015
    r_cancel_t = np.where(r_cancel, r_t0 + rng.integers(HOUR, 8 * HOUR, nr), NULL)
    r_arr = np.where(r_cancel, NULL, r_arr)
    r_comp = np.where(r_cancel, NULL, r_comp)
    r_line = _line_numbers(r_city, r_line_idx)

    # ---- both
    otype = np.concatenate([np.zeros(ni, np.int64), np.ones(nr, np.int64)])
    t0 = np.concatenate([i_t0, r_t0])
    city = np.concatenate([i_city, r_city])
    dist = np.concatenate([i_dist, r_dist])
    line = np.concatenate([i_line, r_line])
    prom = np.concatenate([promised, np.full(nr, NULL)])
    a_s = np.concatenate([i_as, r_as])
    a_e = np.concatenate([i_ae, r_ae])
    arr = np.concatenate([i_arr, r_arr])
    comp = np.concatenate([i_comp, r_comp])
    canc = np.concatenate([i_cancel_t, r_cancel_t])
    fcause = np.concatenate([np.full(ni, NULL), cause])
    tech = rng.integers(1, TECHS_PER_TEAM + 1, len(t0))
    ids = _daily_ids(t0)
    rec, cutoff, fday, upd = _versions([t0, arr, comp, canc], ctx)
    comp_v = _vis(comp[rec], cutoff)
    status = np.where(_vis(canc[rec], cutoff) >= 0, 2, np.where(comp_v >= 0, 1, 0))
    dcodes = tuple(d[0] for d in districts)
    tech_labels = tuple(f"T{d[0]}-" for d in districts)
    cols = {
        "order_id": Col("id", ids[rec], "WO"),
        "order_type": Col("cat", otype[rec], WO_TYPE),
        "line_id": Col("id", line[rec], "0"),
        "city_code": Col("cat", city[rec], CITY_CODES),
        "district_code": Col("cat", dist[rec], dcodes),
        "area_type": Col("cat", d_rural[dist[rec]].astype(np.int64), AREA_TYPE),
        "team_id": Col("cat", dist[rec], tuple(f"F{c}" for c in dcodes)),
        "technician_id": Col("id", tech[rec], (tech_labels, dist[rec])),
        "created_at": Col("ts", t0[rec]),
        "promised_by": Col("ts", prom[rec]),
        "appointment_start": Col("ts", a_s[rec]),
        "appointment_end": Col("ts", a_e[rec]),
        "arrived_at": Col("ts", _vis(arr[rec], cutoff)),
        "completed_at": Col("ts", comp_v),
        "status": Col("cat", status, WO_STATUS),
        "fault_cause": Col("cat", np.where(comp_v >= 0, fcause[rec], NULL), FAULT_CAUSE),
        "updated_at": Col("ts", upd),
    }
    done = comp >= 0
    i_done, r_done = done & (otype == 0), done & (otype == 1)
    on_time_i = comp <= prom
    on_time_r = comp - t0 <= np.concatenate([np.zeros(ni, np.int64), deadline])
    c_i = {"id": ids[i_done], "city": city[i_done], "end": comp[i_done], "bad": ~on_time_i[i_done]}
    c_r = {"id": ids[r_done], "city": city[r_done], "end": comp[r_done], "bad": ~on_time_r[r_done]}
    return Table(ENTITY_BY_PREFIX["fo_work_order"], cols, fday), c_i, c_r


def _gen_speed_tests(rng, ctx: Ctx) -> Table:
    f = ctx.weekday_factor(W_TESTS)
    day_idx, city, t = _arrivals(rng, ctx, BASE_TESTS, f, H_TESTS)
    n = len(t)
    line_pool = max(20000, int(BASE_TESTS * ctx.scale / N_CITIES * 40))
    line = _line_numbers(city, rng.integers(0, line_pool, n))
    method = _pick(rng, (.33, .42, .15, .10), n)
    sub = np.array([100, 200, 300, 500, 1000])[_pick(rng, (.08, .17, .3, .3, .15), n)]
    city_fail = rng.uniform(0.02, 0.04, N_CITIES)
    p_fail = city_fail[city]
    xz = CITY_INDEX[INCIDENT_SPEED_CITY]
    first, length = INCIDENT_SPEED_DAYS
    drift = np.array([min(max((d - first).days + 1, 0), length) / length for d in ctx.dates])
    p_fail = np.where(city == xz, 0.025 + drift[day_idx] * 0.05, p_fail)
    fail = rng.random(n) < p_fail
    ratio = np.where(fail, rng.uniform(0.3, 0.895, n), rng.uniform(0.905, 1.08, n))
    wifi = method == 1
    ratio = np.where(wifi, rng.beta(4, 2.5, n) * 1.05, ratio)
    down = np.round(sub * ratio * 100).astype(np.int64)
    up_sub = np.maximum(sub // 10, 20)
    up = np.round(up_sub * rng.uniform(0.8, 1.1, n) * np.where(wifi, rng.uniform(0.5, 1.0, n), 1.0) * 100).astype(np.int64)
    order = np.argsort(t, kind="stable")
    ids = _daily_ids(t)
    cols = {
        "test_id": Col("id", ids[order], "ST"),
        "line_id": Col("id", line[order], "0"),
        "city_code": Col("cat", city[order], CITY_CODES),
        "tested_at": Col("ts", t[order]),
        "method": Col("cat", method[order], SPEED_METHOD),
        "subscribed_down_mbps": Col("int", sub[order]),
        "measured_down_mbps": Col("dec2", down[order]),
        "measured_up_mbps": Col("dec2", up[order]),
    }
    return Table(ENTITY_BY_PREFIX["net_speed_test"], cols, (t // DAY)[order])


def _gen_surveys(rng, ctx: Ctx, contacts: dict[str, dict]) -> Table:
    prefixes = {"hotline": "C", "store": "Q", "install": "WO", "repair": "WO", "complaint": "TS"}
    parts = []
    for ti, ctype in enumerate(SURVEY_CONTACT):
        c = contacts[ctype]
        pick = np.flatnonzero(rng.random(len(c["id"])) < SURVEY_SHARE[ctype])
        p_bad = np.where(c["bad"][pick], 0.15, 0.015)
        if "bill" in c:
            p_bad = np.where(c["bill"][pick], p_bad + 0.03, p_bad)
        parts.append((np.full(len(pick), ti), c["id"][pick], c["city"][pick], c["end"][pick], p_bad))
    ctype, cid, city, end, p_bad = (np.concatenate(x) for x in zip(*parts))
    n = len(ctype)
    sent = end + rng.integers(10 * MINUTE, 3 * HOUR, n)
    h = (sent % DAY) // HOUR
    sent = np.where(h >= 21, (sent // DAY + 1) * DAY + 9 * HOUR + rng.integers(0, 2 * HOUR, n), sent)
    sent = np.where(h < 8, (sent // DAY) * DAY + 9 * HOUR + rng.integers(0, 2 * HOUR, n), sent)
    responds = rng.random(n) < 0.55
    resp = np.where(responds, sent + np.round(rng.exponential(3 * HOUR, n)).astype(np.int64) + 30, NULL)
    dissatisfied = rng.random(n) < p_bad
    score = np.where(dissatisfied, np.array([3, 3, 2, 1])[rng.integers(0, 4, n)],
                     np.where(rng.random(n) < 0.87, 5, 4))
    keep = (sent // DAY) <= ctx.last_dn
    ids = np.full(n, NULL)
    ids[keep] = _daily_ids(sent[keep])
    rec, cutoff, fday, upd = _versions([np.where(keep, sent, NULL), np.where(keep, resp, NULL)], ctx)
    resp_v = _vis(resp[rec], cutoff)
    cols = {
        "survey_id": Col("id", ids[rec], "SV"),
        "contact_type": Col("cat", ctype[rec], SURVEY_CONTACT),
        "contact_id": Col("id", cid[rec], (tuple(prefixes[c] for c in SURVEY_CONTACT), ctype[rec])),
        "city_code": Col("cat", city[rec], CITY_CODES),
        "sent_at": Col("ts", sent[rec]),
        "responded_at": Col("ts", resp_v),
        "score": Col("int", np.where(resp_v >= 0, score[rec], NULL)),
        "updated_at": Col("ts", upd),
    }
    return Table(ENTITY_BY_PREFIX["crm_survey"], cols, fday)


def _monthly_files(rng, ctx: Ctx) -> dict[str, list[tuple]]:
    """Monthly denominators for every month that has ended inside the window."""
    out: dict[str, list[tuple]] = {}
    months = sorted({(d.year, d.month) for d in ctx.dates})
    growth = rng.normal(0.002, 0.002, size=(len(months), N_CITIES, 3))
    for mi, (y, m) in enumerate(months):
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        if nxt - timedelta(days=1) > ctx.end:
            continue  # the current, partial month: its files arrive late
        label = f"{y:04d}-{m:02d}"
        subs = []
        for ci, code in enumerate(CITY_CODES):
            for pi, prod in enumerate(SUB_PRODUCT):
                v = SUBS_TOTAL * ctx.scale * ctx.city_w[ci] * PRODUCT_SHARE[pi] * (1 + growth[: mi + 1, ci, pi].sum())
                subs.append((label, code, prod, str(int(round(v)))))
        out[f"crm_subscriber_{y:04d}{m:02d}.csv"] = subs
        bills = _monthly_bills(ctx)
        out[f"billing_bill_run_{y:04d}{m:02d}.csv"] = [
            (label, code, str(int(round(bills[ci] * (1 + growth[: mi + 1, ci, 0].sum())))))
            for ci, code in enumerate(CITY_CODES)]
    return out


# ============================================================================== faults

@dataclass
class FaultFile:
    """What happens to one daily file (all optional)."""

    row_ops: list = field(default_factory=list)       # (kind, column, row index, new value / None)
    dup_rows: list = field(default_factory=list)      # (row index, note)
    extra_rows_from: list = field(default_factory=list)  # rows appended from another table chunk
    drop_column: str | None = None
    reorder_extra: bool = False
    header_only: bool = False
    zero_bytes: bool = False
    truncate_last: bool = False
    utf8_instead: bool = False
    bom: bool = False
    missing: bool = False


def _fault_day(ctx: Ctx, offset: int) -> date:
    """Fault dates are fixed offsets in the default 48-day window, compressed for shorter runs."""
    i = offset if ctx.days >= DEFAULT_DAYS else offset * ctx.days // DEFAULT_DAYS
    return ctx.dates[min(i, ctx.days - 1)]


# (entity prefix, day offset, kind, column, value or rule, how many rows, description)
_ROW_FAULTS = (
    ("cc_call", 3, "dup", None, None, 3, "exact duplicate row (same file)"),
    ("fo_work_order", 10, "old_version", None, None, 3, "an older version of the key in the same file"),
    ("crm_queue_ticket", 12, "skew", "called_at", ("taken_at", -150), 2, "clock skew: called_at before taken_at"),
    ("cc_call", 14, "skew", "answered_at", ("queue_entered_at", -40), 2, "clock skew: answered_at before queue_entered_at"),
    ("fo_work_order", 16, "skew", "arrived_at", ("created_at", -1800), 2, "clock skew: arrived_at before created_at"),
    ("crm_queue_ticket", 18, "set", "status", "Served", 2, "enum not listed: status 'Served'"),
    ("cc_call", 20, "set", "skill_group", "vip2", 2, "enum not listed: skill_group 'vip2'"),
    ("crm_complaint", 22, "set", "channel", "wechat", 1, "enum not listed: channel 'wechat'"),
    ("crm_queue_ticket", 24, "set", "store_id", "NJS99", 2, "unknown store_id 'NJS99'"),
    ("crm_complaint", 25, "set", "city_code", "SH", 1, "unknown city_code 'SH'"),
    ("fo_work_order", 26, "set", "team_id", "FXX01", 2, "unknown team_id 'FXX01'"),
    ("cc_call", 27, "set", "agent_id", "A99999", 2, "unknown agent_id 'A99999'"),
    ("net_speed_test", 28, "tfmt", "tested_at", "T", 2, "unparseable timestamp (ISO 'T' separator)"),
    ("crm_survey", 29, "tfmt", "sent_at", "short", 2, "unparseable timestamp (no seconds, hour not zero-padded)"),
    ("billing_dispute", 30, "set", "amount", "1,234", 1, "unparseable decimal '1,234' (thousands separator)"),
    ("net_speed_test", 31, "set", "subscribed_down_mbps", "1e3", 2, "unparseable decimal '1e3' (exponent)"),
    ("cc_call", 32, "set", "call_id", "", 2, "empty key call_id"),
    ("billing_refund", 33, "set", "refund_id", "", 1, "empty key refund_id"),
)
# (entity prefix, day offset, attribute, description)
_FILE_FAULTS = (
    ("billing_refund", 5, "bom", "UTF-8 BOM at the start (legal variation, must be accepted)"),
    ("cc_call", 8, "cross_dup", "rows of this file re-extracted into the next day's file (exact duplicates across files)"),
    ("billing_dispute", 12, "header_only", "header-only file (no records)"),
    ("net_speed_test", 20, "missing", "file missing: no delivery for this date"),
    ("crm_survey", 26, "zero_bytes", "zero-byte file"),
    ("billing_refund", 35, "drop_column", "required column 'updated_at' missing: whole file unusable"),
    ("cc_call", 36, "truncate_last", "truncated last line (fewer fields, no final newline)"),
    ("crm_complaint", 37, "utf8_instead", "CRM file delivered in UTF-8 instead of GB18030"),
    ("fo_work_order", 38, "reorder_extra", "columns in a different order plus an unknown extra column 'remark'"),
)


def _plan_faults(rng, ctx: Ctx, tables: dict[str, Table]) -> dict[tuple[str, date], dict]:
    """Choose the rows every fault touches. Drawn after all clean data."""
    plan: dict[tuple[str, date], dict] = {}

    def entry(prefix, d):
        return plan.setdefault((prefix, d), {"rows": [], "file": {}})

    for prefix, off, kind, col, val, k, desc in _ROW_FAULTS:
        d = _fault_day(ctx, off)
        tab = tables[prefix]
        n_rows = int(np.count_nonzero(tab.file_day == _epoch_day(d)))
        if n_rows == 0:
            continue
        if kind == "old_version":
            cand = np.flatnonzero((tab.cols["completed_at"].data >= 0) &
                                  (tab.file_day == _epoch_day(d)))
            cand = cand - np.searchsorted(tab.file_day, _epoch_day(d))
        elif kind == "skew":
            a, b = (tab.file_day == _epoch_day(d)), tab.cols[val[0]].data >= 0
            if col in tab.cols:
                b &= tab.cols[col].data >= 0
            cand = np.flatnonzero(a & b) - np.searchsorted(tab.file_day, _epoch_day(d))
        else:
            cand = np.arange(n_rows)
        if len(cand) == 0:
            continue
        rows = np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))
        for r in rows:
            entry(prefix, d)["rows"].append((kind, col, int(r), val, desc))
    for prefix, off, attr, desc in _FILE_FAULTS:
        d = _fault_day(ctx, off)
        if attr == "cross_dup":
            d = ctx.dates[min(ctx.dates.index(d), ctx.days - 2)] if ctx.days >= 2 else d
            tab = tables[prefix]
            n_rows = int(np.count_nonzero(tab.file_day == _epoch_day(d)))
            rows = np.sort(rng.choice(n_rows, size=min(4, n_rows), replace=False)) if n_rows else []
            nxt = d + timedelta(days=1)
            entry(prefix, nxt)["file"]["cross_dup"] = (d, [int(r) for r in rows], desc)
            continue
        entry(prefix, d)["file"][attr] = desc
    return plan


def _fmt_ts_py(s: str, how: str) -> str:
    if not s:
        return s
    if how == "T":
        return s.replace(" ", "T")
    dt = datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
    return f"{dt:%Y-%m-%d} {dt.hour}:{dt.minute:02d}"


def _apply_row_faults(table: dict[str, pa.Array], rows: list, prefix: str) -> tuple[dict[str, pa.Array], list]:
    """Apply row faults to one file's string table; returns the table and (row index, desc)."""
    if not rows:
        return table, []
    n = len(next(iter(table.values())))
    touched = {c for (_, c, _, _, _) in rows if c}
    if any(k in ("skew", "old_version") for (k, *_r) in rows):
        touched |= {"updated_at", "completed_at", "status", "fault_cause", "arrived_at"} & set(table)
    obj = {c: np.array(table[c].to_pylist(), dtype=object) for c in touched}
    get = lambda c, r: obj[c][r] if c in obj else table[c][r].as_py()  # noqa: E731
    notes: list[tuple[int, str]] = []
    order = list(range(n))
    inserts: dict[int, list[tuple[dict, str]]] = {}
    for kind, col, r, val, desc in rows:
        if kind == "set":
            obj[col][r] = val
            notes.append((r, desc))
        elif kind == "tfmt":
            obj[col][r] = _fmt_ts_py(obj[col][r], val)
            notes.append((r, desc))
        elif kind == "skew":
            ref = datetime.strptime(get(val[0], r), "%Y-%m-%d %H:%M:%S")
            obj[col][r] = (ref + timedelta(seconds=val[1])).strftime("%Y-%m-%d %H:%M:%S")
            notes.append((r, desc))
        elif kind in ("dup", "old_version"):
            inserts.setdefault(r, []).append((kind, desc))
    table = {c: (pa.array(obj[c].tolist(), pa.string()) if c in obj else a) for c, a in table.items()}
    if inserts:
        idx, new_notes, old_rows = [], [], []
        pos = {}
        for i in range(n):
            if i in inserts and any(k == "old_version" for k, _ in inserts[i]):
                old_rows.append(len(idx))
                new_notes.append((len(idx), [d for k, d in inserts[i] if k == "old_version"][0]))
                idx.append(i)
            pos[i] = len(idx)
            idx.append(i)
            for k, d in inserts.get(i, []):
                if k == "dup":
                    new_notes.append((len(idx), d + f" (copy of the record above)"))
                    idx.append(i)
        table = {c: a.take(pa.array(idx)) for c, a in table.items()}
        if old_rows:  # make the inserted copy an earlier, still-open version
            for c in ("completed_at", "fault_cause", "status", "updated_at"):
                vals = table[c].to_pylist()
                for j in old_rows:
                    vals[j] = {"completed_at": "", "fault_cause": "", "status": "open"}.get(
                        c, vals[j] if c != "updated_at" else (table["arrived_at"][j].as_py() or table["created_at"][j].as_py()))
                table[c] = pa.array(vals, pa.string())
            # an open version has no arrival later than its update
        notes = [(pos[r], d) for r, d in notes] + new_notes
    return table, notes


# ============================================================================== writing

def _write(path: Path, data: bytes, summary_files: list):
    path.write_bytes(data)
    summary_files.append(path.name)


def _csv_small(columns, rows: list[tuple]) -> bytes:
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\n\r') else v
    return ("\n".join([",".join(columns)] + [",".join(q(str(v)) for v in r) for r in rows]) + "\n").encode()


def generate(out_dir: Path, *, start: date = DEFAULT_START, days: int = DEFAULT_DAYS,
             scale: float = SAMPLE_SCALE, seed: int = DEFAULT_SEED, faults: bool = True,
             hotspots: bool = True) -> dict:
    """Generate the inbox into `out_dir` (created; existing *.csv files there are removed).

    Returns {"files": n, "bytes": total, "entities": {prefix: {"files", "rows"}},
    "faults": [{"file", "line", "fault"}], "incidents": [...], "hotspots": [...],
    "seconds": elapsed}. `hotspots` plants a few contact spikes (tools/sample_hotspots.py).
    """
    from .sample_hotspots import PlantedHotspots, plant_hotspots

    if days < 1:
        raise ValueError("days must be >= 1")
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.csv"):
        old.unlink()
    rng = np.random.default_rng(seed)
    ctx = Ctx(start, days, scale)
    storm_mask = ctx.window(*INCIDENT_STORM_DAYS)
    y, m = INCIDENT_BILLING_MONTH
    billing_mask = np.array([(d.year, d.month) == (y, m) and d.day > BILL_DAY for d in ctx.dates])

    # ---- clean data (all random draws happen here, in a fixed order)
    districts, stores, teams, agents = _reference(rng)
    tickets, c_store = _gen_tickets(rng, ctx, stores)
    calls, c_call = _gen_calls(rng, ctx, agents)
    complaints, c_compl = _gen_complaints(rng, ctx, storm_mask, billing_mask)
    disputes, refunds = _gen_billing(rng, ctx, billing_mask)
    orders, c_inst, c_rep = _gen_work_orders(rng, ctx, districts, storm_mask)
    tests = _gen_speed_tests(rng, ctx)
    surveys = _gen_surveys(rng, ctx, {"hotline": c_call, "store": c_store, "install": c_inst,
                                      "repair": c_rep, "complaint": c_compl})
    monthly = _monthly_files(rng, ctx)
    tables = {t.entity.prefix: t for t in (tickets, complaints, surveys, disputes, refunds, calls, orders, tests)}
    plan = _plan_faults(rng, ctx, tables) if faults else {}
    # Drawn from a stream of their own, so the rest of the inbox is the same without them.
    whole_file_faults = {key for key, fp in plan.items() if fp["file"]}
    planted = (plant_hotspots(ctx, seed, calls, whole_file_faults) if hotspots
               else PlantedHotspots({}, []))

    summary: dict[str, Any] = {"out_dir": str(out_dir), "start": start.isoformat(), "days": days,
                               "scale": scale, "seed": seed, "faults_enabled": faults,
                               "entities": {}, "faults": [], "files": 0, "bytes": 0}
    written: list[str] = []

    def account(prefix, rows):
        e = summary["entities"].setdefault(prefix, {"files": 0, "rows": 0})
        e["files"] += 1
        e["rows"] += rows

    # reference
    for prefix, rows in _ref_tables(districts, stores, teams, agents).items():
        ent = ENTITY_BY_PREFIX[prefix]
        _write(out_dir / f"{prefix}.csv", _csv_small(ent.column_names, rows), written)
        account(prefix, len(rows))
    # monthly
    for name, rows in monthly.items():
        prefix = name.rsplit("_", 1)[0]
        ent = ENTITY_BY_PREFIX[prefix]
        data = _csv_small(ent.column_names, rows)
        if ent.encoding != "utf-8":
            data = data.decode().encode(ent.encoding)
        _write(out_dir / name, data, written)
        account(prefix, len(rows))
    # daily
    for prefix, tab in tables.items():
        ent = tab.entity
        bounds = np.searchsorted(tab.file_day, np.concatenate([ctx.dn, [ctx.last_dn + 1]]))
        for di, d in enumerate(ctx.dates):
            a, b = int(bounds[di]), int(bounds[di + 1])
            name = f"{prefix}_{d:%Y%m%d}.csv"
            fp = plan.get((prefix, d), {"rows": [], "file": {}})
            ff = fp["file"]
            if "missing" in ff:
                summary["faults"].append({"file": name, "line": None, "fault": ff["missing"]})
                continue
            if "zero_bytes" in ff:
                _write(out_dir / name, b"", written)
                account(prefix, 0)
                summary["faults"].append({"file": name, "line": None, "fault": ff["zero_bytes"]})
                continue
            if "header_only" in ff:
                a = b
            table = {c: _fmt(tab.cols[c].take(np.arange(a, b))) for c in ent.column_names}
            quote_cols = {c for c in ent.column_names if tab.cols[c].kind == "str"}
            table, notes = _apply_row_faults(table, fp["rows"], prefix)
            if (prefix, d) in planted.rows:  # appended: every other line keeps its number
                extra = planted.rows[(prefix, d)]
                table = {c: pa.concat_arrays([table[c], pa.array(extra[c], pa.string())])
                         for c in ent.column_names}
            if notes:
                quote_cols |= set(ent.column_names)
            if "cross_dup" in ff:
                src_day, rows, desc = ff["cross_dup"]
                s0 = int(np.searchsorted(tab.file_day, _epoch_day(src_day)))
                extra = {c: _fmt(tab.cols[c].take(np.array(rows, np.int64) + s0)) for c in ent.column_names}
                n0 = len(table[ent.column_names[0]])
                table = {c: pa.concat_arrays([table[c], extra[c]]) for c in ent.column_names}
                notes += [(n0 + i, desc.replace("rows of this file re-extracted into the next day's file",
                                                f"exact duplicate of a row of {prefix}_{src_day:%Y%m%d}.csv"))
                          for i in range(len(rows))]
            columns = list(ent.column_names)
            if "drop_column" in ff:
                columns.remove("updated_at")
            if "reorder_extra" in ff:
                columns = columns[::-1][:5] + ["remark"] + columns[::-1][5:]
                nrow = len(table[ent.column_names[0]])
                table["remark"] = pa.array(["人工补录" if i % 7 == 3 else "" for i in range(nrow)], pa.string())
            data, start_line = _serialize(columns, table, quote_cols=quote_cols)
            nrec = len(start_line)
            for r, desc in notes:
                summary["faults"].append({"file": name, "line": int(start_line[r]), "fault": desc})
            for attr in ("header_only", "drop_column", "reorder_extra"):
                if attr in ff:
                    summary["faults"].append({"file": name, "line": 1 if attr != "header_only" else None, "fault": ff[attr]})
            if "truncate_last" in ff and nrec:
                last_start = data.rfind(b"\n", 0, len(data) - 1) + 1
                last = data[last_start:]
                cut = [i for i, ch in enumerate(last) if ch == ord(",")][4] + 9
                data = data[:last_start] + last[:cut]
                summary["faults"].append({"file": name, "line": int(start_line[-1]), "fault": ff["truncate_last"]})
            if ent.encoding != "utf-8" and "utf8_instead" not in ff:
                data = data.decode("utf-8").encode(ent.encoding)
            elif "utf8_instead" in ff:
                summary["faults"].append({"file": name, "line": None, "fault": ff["utf8_instead"]})
            if "bom" in ff:
                data = b"\xef\xbb\xbf" + data
                summary["faults"].append({"file": name, "line": 1, "fault": ff["bom"]})
            _write(out_dir / name, data, written)
            account(prefix, nrec)

    summary["files"] = len(written)
    summary["bytes"] = sum((out_dir / f).stat().st_size for f in written)
    summary["faults"].sort(key=lambda f: (f["file"], f["line"] or 0))
    summary["incidents"] = incidents(start, days)
    summary["hotspots"] = planted.spikes
    summary["seconds"] = round(time.perf_counter() - t_start, 2)
    return summary


def incidents(start: date = DEFAULT_START, days: int = DEFAULT_DAYS) -> list[dict]:
    """The planted incidents that fall inside the window."""
    end = start + timedelta(days=days - 1)
    out = []

    def add(first: date, last: date, what: str):
        if first <= end and last >= start:
            out.append({"from": max(first, start).isoformat(), "to": min(last, end).isoformat(), "incident": what})

    f, n = INCIDENT_STORM_DAYS
    add(f, f + timedelta(days=n - 1), "storm in YC: repair surge (fiber_cut), K12 collapses, K13 down")
    d = date(start.year, start.month, 1)
    while d <= end:
        bd = d.replace(day=BILL_DAY)
        add(bd + timedelta(days=1), bd + timedelta(days=2), f"bill day {bd}: hotline K02/K03 drop province-wide")
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    f, n = INCIDENT_STORE_DAYS
    add(f, f + timedelta(days=n - 1), f"long queues at {INCIDENT_STORE_ID} (NJ flagship): K01 red for NJ")
    f, n = INCIDENT_SPEED_DAYS
    add(f, end, "XZ speed-test pass rate K15 drifts down to amber over 10 days, stays there")
    y, m = INCIDENT_BILLING_MONTH
    add(date(y, m, BILL_DAY + 1), date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1),
        "billing error in SZ: disputes (K09) and billing complaints (K06, K07) up")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.sample_data",
                                description="Generate the synthetic QualityLoop inbox.")
    p.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder (default data/sample)")
    p.add_argument("--days", type=int, default=DEFAULT_DAYS)
    p.add_argument("--scale", type=float, default=SAMPLE_SCALE, help="1.0 = province scale (~1M rows/day)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START, help="first business date YYYY-MM-DD")
    p.add_argument("--no-faults", action="store_true", help="no planted delivery faults")
    p.add_argument("--no-hotspots", action="store_true", help="no planted contact spikes")
    p.add_argument("--json", action="store_true", help="print the full summary as JSON")
    a = p.parse_args(argv)
    s = generate(a.out, start=a.start, days=a.days, scale=a.scale, seed=a.seed, faults=not a.no_faults,
                 hotspots=not a.no_hotspots)
    if a.json:
        print(json.dumps(s, ensure_ascii=False, indent=1))
    else:
        print(f"{s['files']} files, {s['bytes'] / 1e6:.2f} MB, {s['seconds']} s -> {s['out_dir']}")
        for k, v in s["entities"].items():
            print(f"  {k:24s} {v['files']:4d} files {v['rows']:10d} rows")
        print(f"  {len(s['faults'])} planted faults, {len(s['hotspots'])} planted hotspots (see --json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
