"""The board's front door, through the real server: login, session cookie, the guard in
front of Dash, throttling, and the overview in a real browser."""

from __future__ import annotations

import json

import duckdb
import requests

from dagster_project.lib.publish import board_path

from .conftest import DEMO_PASSWORD, login
from .qloop_cli import qloop


def test_anonymous_pages_redirect_to_the_login_form(board_url):
    response = requests.get(f"{board_url}/issues", headers={"Accept": "text/html"},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/issues")


def test_anonymous_callbacks_and_layout_are_refused(board_url):
    for method, path in (("POST", "/_dash-update-component"), ("GET", "/_dash-layout"),
                         ("GET", "/_dash-dependencies")):
        response = requests.request(method, f"{board_url}{path}", json={}, timeout=10,
                                    allow_redirects=False)
        assert response.status_code == 401, path


def test_login_sets_an_httponly_samesite_session_cookie(board_url):
    session = requests.Session()
    response = session.post(f"{board_url}/login", data={"username": "demo_qm",
                                                         "password": DEMO_PASSWORD},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "qloop_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert session.get(f"{board_url}/_dash-layout", timeout=10).status_code == 200
    session.get(f"{board_url}/logout", timeout=10)
    assert session.get(f"{board_url}/_dash-layout", timeout=10).status_code == 401


def test_only_a_changed_session_is_sent_back(board_url):
    """A callback's response must not carry the session: one that finished after a language
    switch would write the old language back (seen as a flaky English page)."""
    session = requests.Session()
    session.post(f"{board_url}/login", data={"username": "demo_qm", "password": DEMO_PASSWORD},
                 allow_redirects=False, timeout=10)
    layout = session.get(f"{board_url}/_dash-layout", timeout=10)
    assert layout.status_code == 200 and "Set-Cookie" not in layout.headers
    switched = session.get(f"{board_url}/lang/en", allow_redirects=False, timeout=10)
    assert "qloop_session=" in switched.headers["Set-Cookie"]


def test_wrong_password_then_throttled(board_url, board_home):
    # a user of its own: the lock-out lasts 15 minutes and must not hit other tests' users
    added = qloop("users", "add", "throttle_probe", "--role", "viewer", "--password-stdin",
                  "--home", str(board_home), input_text=f"{DEMO_PASSWORD}\n")
    assert added.returncode == 0, added.stderr
    for _ in range(5):
        response = requests.post(f"{board_url}/login", data={"username": "throttle_probe",
                                                              "password": "wrong-password"},
                                 timeout=10)
        assert response.status_code == 401 and "Wrong user name or password" in response.text
    # the right password is refused too while throttled
    response = requests.post(f"{board_url}/login", data={"username": "throttle_probe",
                                                          "password": DEMO_PASSWORD}, timeout=10)
    assert response.status_code == 429 and "Too many failed logins" in response.text


def test_login_never_redirects_to_another_site(board_url):
    response = requests.post(f"{board_url}/login", data={
        "username": "demo_qm", "password": DEMO_PASSWORD, "next": "//evil.example/x"},
        allow_redirects=False, timeout=10)
    assert response.headers["Location"] in ("/", f"{board_url}/")


def test_overview_shows_every_kpi_with_the_published_status(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    page.wait_for_selector("#scorecard tbody tr")
    rows = page.locator("#scorecard tbody tr")
    assert rows.count() == 13  # day view: the 13 daily KPIs
    con = duckdb.connect(str(board_path(board_home)), read_only=True)
    try:
        expected = dict(con.execute(
            "select kpi_code, status from fct_kpi_values where period_type = 'day' and "
            "region_code = 'JS' and period_start = (select report_date from dim_as_of)"
        ).fetchall())
    finally:
        con.close()
    shown = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        kpi = json.loads(row.get_attribute("id"))["kpi"]
        shown[kpi] = row.locator(".rag").get_attribute("data-status")
    assert shown == {k: expected.get(k, "no_data") for k in shown}
    # month view adds the two month KPIs
    page.locator("#overview-period-type input[value=month]").check()
    page.wait_for_function("() => document.querySelectorAll('#scorecard tbody tr').length == 15")


def test_language_switch(page, board_url):
    login(page, board_url, "demo_qm")
    page.wait_for_selector("#scorecard")
    assert "总览" in page.locator("header").inner_text()
    page.click("#switch-language")
    page.wait_for_selector("#scorecard")
    assert "Overview" in page.locator("header").inner_text()
    assert "Hotline agent connect rate" in page.locator("#scorecard").inner_text()
