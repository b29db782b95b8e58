"""A hand-made inbox that puts every KPI on its boundaries, with the expected values.

Every record below is placed so that one boundary of kpi-catalog.md decides it; the comment
on each record says which side it falls. The expected (numerator, denominator) pairs at the
bottom were worked out by hand from those comments, not computed by code.

The latest daily file is dated 2026-10-03, so T = 2026-10-04 00:00:00 and the snapshot is
kpi_snapshot_20261003.csv.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dagster_project.lib.extracts import ENTITY_BY_PREFIX

CITIES = [("NJ", "南京", "Nanjing"), ("WX", "无锡", "Wuxi"), ("XZ", "徐州", "Xuzhou"),
          ("CZ", "常州", "Changzhou"), ("SZ", "苏州", "Suzhou"), ("NT", "南通", "Nantong"),
          ("LYG", "连云港", "Lianyungang"), ("HA", "淮安", "Huai'an"), ("YC", "盐城", "Yancheng"),
          ("YZ", "扬州", "Yangzhou"), ("ZJ", "镇江", "Zhenjiang"), ("TZ", "泰州", "Taizhou"),
          ("SQ", "宿迁", "Suqian")]


def _csv(prefix: str, rows: list[dict]) -> str:
    columns = ENTITY_BY_PREFIX[prefix].column_names
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def write_file(inbox: Path, name: str, prefix: str, rows: list[dict]) -> None:
    encoding = "gb18030" if prefix.startswith("crm_") else "utf-8"
    (inbox / name).write_bytes(_csv(prefix, rows).encode(encoding))


def ts(day: str, clock: str) -> str:
    return f"2026-{day} {clock}"


# --- K01 queue tickets (store S1 is in NJ) -------------------------------------------------
def ticket(tid, taken, status, called="", abandoned="", updated=None, btype="payment"):
    return dict(ticket_id=tid, store_id="S1", business_type=btype, taken_at=taken, called_at=called,
                abandoned_at=abandoned, service_end_at="", status=status, updated_at=updated or taken)


TICKETS_1001 = [
    ticket("Q1", ts("10-01", "08:00:00"), "served", called=ts("10-01", "08:15:00")),      # 900 s: num
    ticket("Q2", ts("10-01", "08:00:00"), "served", called=ts("10-01", "08:15:01")),      # 901 s: den only
    ticket("Q3", ts("10-01", "08:00:00"), "abandoned", abandoned=ts("10-01", "08:15:00")),  # left at 900 s: out
    ticket("Q4", ts("10-01", "08:00:00"), "abandoned", abandoned=ts("10-01", "08:15:01")),  # left at 901 s: den
    ticket("Q5", ts("10-01", "09:00:00"), "waiting"),                                     # waiting: out
    ticket("Q6", ts("10-01", "09:00:00"), "served", called=ts("10-01", "09:01:00"), btype="Payment"),  # rule 3
    ticket("Q7", ts("10-01", "10:00:00"), "waiting"),                                     # superseded below
    ticket("Q8", ts("10-01", "10:00:00"), "served", called=ts("10-01", "10:30:00"),
           updated=ts("10-01", "12:00:00")),                                              # tie: loses to 10-02
]
TICKETS_1002 = [
    ticket("Q7", ts("10-01", "10:00:00"), "served", called=ts("10-01", "10:05:00"),
           updated=ts("10-02", "00:00:01")),                                              # newer: num
    ticket("Q8", ts("10-01", "10:00:00"), "served", called=ts("10-01", "10:05:00"),
           updated=ts("10-01", "12:00:00")),                                              # same updated_at, later file: num
]
# K01 NJ 10-01: num Q1 Q7 Q8 = 3; den Q1 Q2 Q4 Q7 Q8 = 5


# --- K02 / K03 / K04 calls (agent A1 in hotline team HT1, site SITE1) -----------------------
def call(cid, caller, queued, answered, ended, arrived=None):
    arrived = arrived or queued
    return dict(call_id=cid, caller_id=caller, city_code="NJ", arrived_at=arrived, ivr_exit_at=arrived,
                queue_entered_at=queued, answered_at=answered, ended_at=ended, skill_group="general",
                agent_id="A1" if answered else "", transferred="0")


CALLS_1001 = [
    call("C1", "Y1", ts("10-01", "08:00:00"), ts("10-01", "08:00:20"), ts("10-01", "08:05:00")),  # 20 s
    call("C2", "Y2", ts("10-01", "08:00:00"), ts("10-01", "08:00:21"), ts("10-01", "08:05:00")),  # 21 s
    call("C3", "Y3", ts("10-01", "08:00:00"), "", ts("10-01", "08:00:04")),  # short abandon 4 s: out
    call("C4", "Y4", ts("10-01", "08:00:00"), "", ts("10-01", "08:00:05")),  # abandon 5 s: den
    dict(call("C5", "Y5", "", "", ts("10-01", "08:01:00"), arrived=ts("10-01", "08:00:00"))),  # self-service
    # K04 (answered 09-30; T - 72 h = 10-01 00:00:00)
    call("D1", "X1", ts("09-30", "22:59:50"), ts("09-30", "23:00:00"), ts("09-30", "23:59:59")),  # D2 repeats
    call("D3", "X2", ts("09-30", "09:59:50"), ts("09-30", "10:00:00"), ts("09-30", "10:10:00")),  # D4 too late
    call("D5", "X3", ts("09-30", "10:59:50"), ts("09-30", "11:00:00"), ts("09-30", "11:05:00")),  # D6 at ended_at
    call("D6", "X3", ts("09-30", "11:05:00"), "", ts("09-30", "11:05:10")),
    call("D7", "", ts("09-30", "11:59:50"), ts("09-30", "12:00:00"), ts("09-30", "12:01:00")),    # empty caller
    call("D8", "", ts("09-30", "12:30:00"), "", ts("09-30", "12:30:10")),
    call("D9", "X4", ts("09-30", "23:58:50"), ts("09-30", "23:59:00"), ts("10-01", "00:00:00")),  # due exactly at T
    call("D10", "X5", ts("09-30", "23:59:50"), ts("10-01", "00:00:00"), ts("10-01", "00:00:01")),  # due 1 s after T
]
CALLS_1003 = [
    call("C1", "Y1", ts("10-01", "08:00:00"), ts("10-01", "08:00:20"), ts("10-01", "08:05:00")),  # CDR extracted twice
    call("D2", "X1", ts("10-03", "23:59:59"), "", ts("10-04", "00:00:30"),
         arrived=ts("10-03", "23:59:00")),                                   # queued at ended_at(D1) + 72 h exactly
    call("D4", "X2", ts("10-03", "10:10:01"), "", ts("10-03", "10:10:30")),  # ended_at(D3) + 72 h + 1 s
]
# K02 NJ 10-01: num C1 C2 = 2, den C1 C2 C4 = 3.   K03 NJ 10-01: num C1 = 1, den 3.
# K04 NJ 09-30: den D1 D3 D5 D7 D9 = 5 (D10 not due); num D3 D5 D7 D9 = 4 -> 0.8 = red threshold: amber.


# --- K05 surveys ---------------------------------------------------------------------------
def survey(sid, city, responded, score, sent=None):
    return dict(survey_id=sid, contact_type="hotline", contact_id="C1", city_code=city,
                sent_at=sent or ts("10-01", "07:00:00"), responded_at=responded, score=score,
                updated_at=responded or ts("10-01", "07:00:00"))


SURVEYS_1001 = [
    survey("V1", "NJ", ts("10-01", "09:00:00"), "5"),
    survey("V2", "NJ", ts("10-01", "09:00:00"), "4"),
    survey("V3", "NJ", ts("10-01", "09:00:00"), "3"),
    survey("V4", "NJ", "", ""),                               # no answer: out
    survey("V5", "NJ", ts("10-01", "09:00:00"), "6"),         # rule 7: rejected
] + [survey(f"W{i}", "WX", ts("10-01", "10:00:00"), "4" if i < 19 else "2") for i in range(20)]
# K05 NJ 10-01: 2/3. WX 10-01: 19/20 = 0.95 = target: green. JS: 21/23.


# --- K06 / K07 / K08 complaints ------------------------------------------------------------
def complaint(cid, customer, created, severity="normal", closed="", status=None, city="NJ"):
    status = status or ("closed" if closed else "open")
    return dict(complaint_id=cid, customer_id=customer, city_code=city, channel="hotline",
                category="billing", severity=severity, summary='话费,"多扣"\n请核实', created_at=created,
                closed_at=closed, status=status, updated_at=closed or created)


COMPLAINTS_1001 = [
    complaint("P1", "U1", ts("10-01", "08:00:00"), closed=ts("10-03", "08:00:00")),            # 48 h: on time
    complaint("P2", "U1", ts("10-01", "08:00:00"), closed=ts("10-03", "08:00:01")),            # 48 h + 1 s
    complaint("P3", "U2", ts("10-01", "08:00:00"), "urgent", closed=ts("10-02", "08:00:00")),  # 24 h: on time
    complaint("P4", "U3", ts("10-01", "08:00:00"), "urgent", closed=ts("10-02", "08:00:01")),  # 24 h + 1 s
    complaint("P5", "U4", ts("10-01", "09:00:00"), "urgent"),                 # open, due 10-02 09:00: late
    complaint("P6", "U5", ts("10-03", "08:00:00")),                           # open, due 10-05: pending
    complaint("P7", "U2", ts("09-30", "08:00:00"), status="cancelled"),       # cancelled: nowhere
    complaint("P8", "", ts("10-01", "10:00:00"), closed=ts("10-01", "11:00:00")),
    complaint("E1", "U3", ts("09-01", "08:00:00"), closed=ts("09-01", "09:00:00")),  # exactly 30 d before P4
    complaint("E2", "U4", ts("09-01", "08:59:59"), closed=ts("09-01", "09:00:00")),  # 30 d + 1 s before P5
    complaint("E3", "", ts("09-30", "10:00:00"), closed=ts("09-30", "11:00:00")),    # empty customer
    complaint("G1", "U9", ts("10-01", "08:00:00"), city="WX", closed=ts("10-01", "09:00:00")),
]
SUBSCRIBERS_202610 = [
    dict(month="2026-10", city_code="NJ", product="mobile", active_subscribers="10000"),
    dict(month="2026-10", city_code="NJ", product="broadband", active_subscribers="5000"),
    dict(month="2026-10", city_code="NJ", product="fixed", active_subscribers="5000"),
    dict(month="2026-10", city_code="SZ", product="mobile", active_subscribers="0"),
]
# K06 2026-10 NJ: complaints created in October, not cancelled: P1-P6, P8 = 7 over 20000 -> 3.5 per 10k.
#     SZ: 0 / 0 -> no value, no_data. WX: no subscriber row -> no row. JS: 7 / 20000 -> 3.5.
# K07 NJ 10-01: num P1 P3 P8 = 3; den P1 P2 P3 P4 P5 P8 = 6.
# K08 NJ 10-01: den P1 P2 P3 P4 P5 P8 = 6; num P4 (E1 exactly 30 d earlier) = 1.
#     P1/P2 share created_at (not earlier), P3's earlier P7 is cancelled, E2 is 1 s too early.


# --- K09 disputes --------------------------------------------------------------------------
def dispute(did, raised, status="open", resolved="", outcome=""):
    return dict(dispute_id=did, account_id="AC1", city_code="NJ", bill_month="2026-09", amount="12.5000",
                raised_at=raised, resolved_at=resolved, outcome=outcome, status=status, updated_at=raised)


DISPUTES_1001 = [
    dispute("B1", ts("10-01", "08:00:00")),
    dispute("B2", ts("10-01", "09:00:00"), "resolved", ts("10-01", "10:00:00"), "withdrawn"),
    dispute("B3", ts("10-02", "09:00:00"), "resolved", ts("10-02", "10:00:00"), "no_error"),
    dict(dispute("B4", ts("10-02", "09:00:00")), amount="1.23456"),  # rule 2: 5 decimals -> rejected
]
BILL_RUNS_202610 = [dict(bill_month="2026-10", city_code="NJ", bills_issued="10000")]
# K09 2026-10 NJ: 3 disputes / 10000 bills -> 3 per 10k.


# --- K10 refunds ---------------------------------------------------------------------------
def refund(rid, requested, status, completed=""):
    return dict(refund_id=rid, dispute_id="", account_id="AC1", city_code="NJ", amount="5",
                requested_at=requested, completed_at=completed, status=status, updated_at=completed or requested)


REFUNDS_1001 = [
    refund("R1", ts("10-01", "08:00:00"), "completed", ts("10-04", "08:00:00")),  # 72 h: on time
    refund("R2", ts("10-01", "08:00:00"), "completed", ts("10-04", "08:00:01")),  # 72 h + 1 s
    refund("R3", ts("10-01", "00:00:00"), "pending"),                           # due exactly at T: late
    refund("R4", ts("10-01", "00:00:01"), "pending"),                           # due 1 s after T: pending
    refund("R5", ts("10-01", "08:00:00"), "rejected"),                          # rejected: nowhere
]
# K10 NJ 10-01: num R1 = 1; den R1 R2 R3 = 3.


# --- K11 .. K14 work orders ----------------------------------------------------------------
def order(oid, otype, line, created, status="open", area="urban", promised="", start="", end="",
          arrived="", completed=""):
    return dict(order_id=oid, order_type=otype, line_id=line, city_code="NJ",
                district_code="NJ01" if area == "urban" else "NJ02", area_type=area, team_id="FT1",
                technician_id="T1", created_at=created, promised_by=promised, appointment_start=start,
                appointment_end=end, arrived_at=arrived, completed_at=completed, status=status,
                fault_cause="fiber_cut" if otype == "repair" and completed else "",
                updated_at=completed or created)


WORK_ORDERS_1001 = [
    order("O1", "install", "L2", ts("10-01", "07:00:00"), "completed", promised=ts("10-02", "18:00:00"),
          start=ts("10-02", "09:00:00"), end=ts("10-02", "11:00:00"), arrived=ts("10-02", "08:45:00"),
          completed=ts("10-02", "18:00:00")),                    # K11 on time; K13 15 min early exactly
    order("O2", "install", "L9", ts("10-01", "07:00:00"), "completed", promised=ts("10-02", "18:00:00"),
          start=ts("10-02", "09:00:00"), end=ts("10-02", "11:00:00"), arrived=ts("10-02", "08:44:59"),
          completed=ts("10-02", "18:00:01")),                    # K11 1 s late; K13 15 min 1 s early
    order("O3", "install", "L8", ts("10-01", "07:00:00"), promised=ts("10-03", "23:59:59")),  # due, open
    order("O4", "install", "L7", ts("10-01", "07:00:00"), promised=ts("10-05", "12:00:00")),  # not yet
    order("O5", "install", "L6", ts("10-01", "07:00:00"), "completed", completed=ts("10-01", "12:00:00")),  # no promise
    order("O6", "repair", "L1", ts("10-01", "08:00:00"), "completed", start=ts("10-01", "14:00:00"),
          end=ts("10-01", "16:00:00"), arrived=ts("10-01", "16:00:00"),
          completed=ts("10-02", "08:00:00")),                    # urban 24 h; arrives at end: punctual
    order("O7", "repair", "L2", ts("10-01", "08:00:00"), "completed", "rural", start=ts("10-01", "14:00:00"),
          end=ts("10-01", "16:00:00"), arrived=ts("10-01", "16:00:01"),
          completed=ts("10-03", "08:00:00")),                    # rural 48 h; 1 s after window
    order("O8", "repair", "L3", ts("10-01", "08:00:00"), "completed", "rural", start=ts("10-01", "14:00:00"),
          end=ts("10-01", "16:00:00"), completed=ts("10-03", "08:00:01")),  # 48 h + 1 s; missed visit
    order("O9", "repair", "L4", ts("10-01", "08:00:00"), start=ts("10-04", "09:00:00"),
          end=ts("10-04", "11:00:00")),                          # open, due 10-02 08:00: late; visit later
    order("O11", "repair", "L1", ts("10-01", "09:00:00"), "cancelled"),          # cancelled: nowhere
    order("O12", "repair", "L1", ts("09-01", "08:00:00"), "completed",
          completed=ts("09-01", "12:00:00")),                    # exactly 30 d before O6
    order("O13", "repair", "L3", ts("09-20", "08:00:00"), "cancelled"),          # cancelled earlier on L3
    order("O14", "repair", "L4", ts("09-01", "07:59:59"), "completed",
          completed=ts("09-01", "12:00:00")),                    # 30 d + 1 s before O9
]
# K11 NJ 10-02: num O1 = 1, den O1 O2 = 2.  10-03: num 0, den O3 = 1.  (O4 not due, O5 no promise)
# K12 NJ 10-01: num O6 O7 = 2; den O6 O7 O8 O9 = 4.
# K13 NJ 10-01: num O6 = 1; den O6 O7 O8 = 3.  10-02: num O1 = 1; den O1 O2 = 2.
# K14 NJ 10-01: den O6 O7 O8 O9 = 4; num O6 = 1 (O7's earlier L2 order is an install).


# --- K15 speed tests -----------------------------------------------------------------------
def speed(tid, method, subscribed, measured):
    return dict(test_id=tid, line_id="L1", city_code="NJ", tested_at=ts("10-01", "12:00:00"), method=method,
                subscribed_down_mbps=subscribed, measured_down_mbps=measured, measured_up_mbps="10")


SPEED_1001 = [
    speed("S1", "wired_app", "100", "90"),            # exactly 0.9: pass
    speed("S2", "probe", "100", "89.9999"),           # fail
    speed("S3", "wifi_app", "100", "10"),             # Wi-Fi: out
    speed("S4", "technician", "300.5", "270.45"),     # 0.9 x 300.5 = 270.45 exactly (float says otherwise)
    speed("S5", "probe", "0", "10"),                  # rule 7: rejected
]
# K15 NJ 10-01: num S1 S4 = 2; den S1 S2 S4 = 3.


def build_inbox(inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    write_file(inbox, "ref_city.csv", "ref_city",
               [dict(city_code=c, city_name_zh=zh, city_name_en=en) for c, zh, en in CITIES])
    write_file(inbox, "ref_district.csv", "ref_district", [
        dict(district_code="NJ01", city_code="NJ", district_name_zh="玄武区", area_type="urban"),
        dict(district_code="NJ02", city_code="NJ", district_name_zh="高淳区", area_type="rural")])
    write_file(inbox, "ref_store.csv", "ref_store", [
        dict(store_id="S1", store_name="新街口旗舰店", city_code="NJ", district_code="NJ01", store_level="flagship")])
    write_file(inbox, "ref_team.csv", "ref_team", [
        dict(team_id="FT1", team_name="玄武装维一班", city_code="NJ", team_type="field", site_id=""),
        dict(team_id="HT1", team_name="热线一组", city_code="NJ", team_type="hotline", site_id="SITE1")])
    write_file(inbox, "ref_agent.csv", "ref_agent", [dict(agent_id="A1", team_id="HT1")])
    write_file(inbox, "crm_queue_ticket_20261001.csv", "crm_queue_ticket", TICKETS_1001)
    write_file(inbox, "crm_queue_ticket_20261002.csv", "crm_queue_ticket", TICKETS_1002)
    write_file(inbox, "cc_call_20261001.csv", "cc_call", CALLS_1001)
    write_file(inbox, "cc_call_20261003.csv", "cc_call", CALLS_1003)
    write_file(inbox, "crm_survey_20261001.csv", "crm_survey", SURVEYS_1001)
    write_file(inbox, "crm_complaint_20261001.csv", "crm_complaint", COMPLAINTS_1001)
    write_file(inbox, "crm_subscriber_202610.csv", "crm_subscriber", SUBSCRIBERS_202610)
    write_file(inbox, "billing_dispute_20261001.csv", "billing_dispute", DISPUTES_1001)
    write_file(inbox, "billing_bill_run_202610.csv", "billing_bill_run", BILL_RUNS_202610)
    write_file(inbox, "billing_refund_20261001.csv", "billing_refund", REFUNDS_1001)
    write_file(inbox, "fo_work_order_20261001.csv", "fo_work_order", WORK_ORDERS_1001)
    write_file(inbox, "net_speed_test_20261001.csv", "net_speed_test", SPEED_1001)


# (period_type, period_start, kpi, region) -> (numerator, denominator, value, status)
EXPECTED = {
    ("day", "2026-10-01", "K01", "NJ"): (3, 5, "0.600000000000", "red"),
    ("month", "2026-10-01", "K01", "NJ"): (3, 5, "0.600000000000", "red"),
    ("day", "2026-10-01", "K02", "NJ"): (2, 3, "0.666666666667", "red"),
    ("day", "2026-10-01", "K03", "NJ"): (1, 3, "0.333333333333", "red"),
    ("day", "2026-09-30", "K04", "NJ"): (4, 5, "0.800000000000", "amber"),
    ("day", "2026-10-01", "K05", "NJ"): (2, 3, "0.666666666667", "red"),
    ("day", "2026-10-01", "K05", "WX"): (19, 20, "0.950000000000", "green"),
    ("day", "2026-10-01", "K05", "JS"): (21, 23, "0.913043478261", "red"),
    ("month", "2026-10-01", "K06", "NJ"): (7, 20000, "3.500000000000", "green"),
    ("month", "2026-10-01", "K06", "SZ"): (0, 0, "", "no_data"),
    ("month", "2026-10-01", "K06", "JS"): (7, 20000, "3.500000000000", "green"),
    ("day", "2026-10-01", "K07", "NJ"): (3, 6, "0.500000000000", "red"),
    ("day", "2026-10-01", "K08", "NJ"): (1, 6, "0.166666666667", "red"),
    ("month", "2026-10-01", "K09", "NJ"): (3, 10000, "3.000000000000", "green"),
    ("day", "2026-10-01", "K10", "NJ"): (1, 3, "0.333333333333", "red"),
    ("day", "2026-10-02", "K11", "NJ"): (1, 2, "0.500000000000", "red"),
    ("day", "2026-10-03", "K11", "NJ"): (0, 1, "0.000000000000", "red"),
    ("day", "2026-10-01", "K12", "NJ"): (2, 4, "0.500000000000", "red"),
    ("day", "2026-10-01", "K13", "NJ"): (1, 3, "0.333333333333", "red"),
    ("day", "2026-10-02", "K13", "NJ"): (1, 2, "0.500000000000", "red"),
    ("day", "2026-10-01", "K14", "NJ"): (1, 4, "0.250000000000", "red"),
    ("day", "2026-10-01", "K15", "NJ"): (2, 3, "0.666666666667", "red"),
}
# Rows that must NOT exist: WX has no subscriber row (K06), nothing is reported for days >= T.
ABSENT = [
    ("month", "2026-10-01", "K06", "WX"),
    ("day", "2026-10-04", "K13", "NJ"),
    ("day", "2026-10-01", "K04", "NJ"),
]
