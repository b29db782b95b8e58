"""Login outside Dash: a plain Flask form, a signed session cookie (HttpOnly, SameSite)
that carries the id of a session kept in the issue store, and a guard that runs before
Dash sees any request. The guard loads the session's user from the store on every
request (role, department, disabled), so logging out, disabling a user or changing their
role takes effect at once. Anonymous page requests are sent to the login form; anonymous
callback and other requests get 401. Failed logins are throttled per user name and client
address (kept in the issue store, so every server process sees them).
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path
from urllib.parse import urlparse

import flask

from dagster_project.lib.remediation.login_throttle import (
    WINDOW, admit_attempt, clear_attempts,
)
from dagster_project.lib.remediation.rules import NAME_MAX
from dagster_project.lib.remediation.sessions import (
    end_session, session_user, start_session,
)
from dagster_project.lib.remediation.workflow import local_now

from .context import CONFIG_KEY, USER_KEY, board
from .i18n import LANGUAGES, t

PUBLIC_PATHS = ("/login", "/logout", "/assets/login.css", "/healthz")
SECRET_ENV = "QLOOP_BOARD_SECRET"

LOGIN_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/login.css"></head>
<body><main class="login">
<h1>{title}</h1>
{message}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>{username_label}<input name="username" autocomplete="username" required autofocus></label>
<label>{password_label}<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">{login_label}</button>
</form>
<p class="langs"><a href="/login?lang=zh&next={next_q}">中文</a> · <a href="/login?lang=en&next={next_q}">English</a></p>
</main></body></html>"""


def secret_key(home: Path, environ: dict) -> str:
    """`QLOOP_BOARD_SECRET`, else a random key kept in <home>/board/secret.key (0600)."""
    if environ.get(SECRET_ENV):
        return environ[SECRET_ENV]
    path = home / "board" / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _render_login(message: str = "", status: int = 200, next_path: str = "/"):
    body = LOGIN_PAGE.format(
        lang=flask.session.get("lang", "zh"), title=html.escape(t("app_title")),
        message=f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "",
        next=html.escape(next_path), next_q=html.escape(next_path),
        username_label=t("username"), password_label=t("password"), login_label=t("login"))
    return flask.Response(body, status=status, mimetype="text/html")


def login():
    lang = flask.request.args.get("lang")
    if lang in LANGUAGES:
        flask.session["lang"] = lang
    next_path = _safe_next(flask.request.values.get("next"))
    if flask.request.method == "GET":
        return _render_login(next_path=next_path)
    name = (flask.request.form.get("username") or "").strip()
    password = flask.request.form.get("password") or ""
    store = board().workflow.store
    # No user name is longer than NAME_MAX: a longer one is throttled by its prefix and
    # still costs a password check (it matches nobody).
    key, address = name[:NAME_MAX], (flask.request.remote_addr or "")[:64]
    if not admit_attempt(store, key, address, local_now()):
        minutes = int(WINDOW.total_seconds() // 60)
        return _render_login(f"Too many failed logins for this user from your address; try "
                             f"again in {minutes} minutes. 该用户从您的地址登录失败次数过多，"
                             f"请{minutes}分钟后再试。", 429, next_path)
    actor = board().workflow.authenticate(name, password)
    if actor is None:
        return _render_login("Wrong user name or password. 用户名或密码错误。", 401, next_path)
    clear_attempts(store, key, address)
    session_id = start_session(store, actor.name, local_now())
    lang = flask.session.get("lang")
    flask.session.clear()
    flask.session["sid"] = session_id
    if lang:
        flask.session["lang"] = lang
    flask.session.permanent = True
    return flask.redirect(next_path)


def logout():
    session_id = flask.session.get("sid")
    if session_id:
        end_session(board().workflow.store, session_id)
    flask.session.clear()
    return flask.redirect("/login")


def switch_language(code: str):
    if code in LANGUAGES:
        flask.session["lang"] = code
    return flask.redirect(_safe_next(flask.request.args.get("next")))


def require_login():
    """Runs before every request, before Dash."""
    path = flask.request.path
    if path in PUBLIC_PATHS:
        return None
    session_id = flask.session.get("sid")
    user = session_user(board().workflow.store, session_id, local_now()) if session_id else None
    if user is not None:
        setattr(flask.g, USER_KEY, user)
        return None
    if flask.request.method == "GET" and flask.request.accept_mimetypes.accept_html \
            and not path.startswith("/_dash"):
        return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}")
    return flask.Response('{"error": "login required"}', status=401,
                          mimetype="application/json")


def init_auth(server: flask.Flask) -> None:
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout)
    server.add_url_rule("/lang/<code>", "switch_language", switch_language)
    server.add_url_rule("/healthz", "healthz", lambda: "ok")
    server.before_request(require_login)


__all__ = ["CONFIG_KEY", "init_auth", "secret_key"]
