"""The board application: Flask (login, session, guard) with Dash on top.

`create_app(settings)` builds it; `qloop board` serves it with waitress (a production WSGI
server). Nothing here runs at import time.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dash
import flask
from dash import dcc, html
from dash.exceptions import CallbackException

from dagster_project.lib.remediation.loop import open_workflow
from dagster_project.lib.settings import Settings

from . import auth, grids  # noqa: F401 (grids: the callbacks every grid shares)
from .closure_download import init_closure_download
from .context import CONFIG_KEY, BoardContext, current_display_name, current_user
from .data_docs import init_data_docs
from .bad_input import refuse_bad_input, refuse_mismatched_request
from .i18n import language, t
from .security import init_security

HERE = Path(__file__).resolve().parent
NAV = (("nav_overview", "/"), ("nav_kpi", "/kpi/K01"), ("nav_issues", "/issues"),
       ("nav_department", "/department"), ("nav_ranking", "/ranking"),
       ("nav_changes", "/changes"), ("nav_post_evaluation", "/post-evaluation"),
       ("nav_hotspots", "/hotspots"), ("nav_health", "/health"))


def shell() -> html.Div:
    """The frame around every page: navigation, user, language switch, page container."""
    user = current_user()
    lang = language()
    other = "en" if lang == "zh" else "zh"
    who = f"{current_display_name()} · {user.role}" + (
        f" · {user.department_code}" if user and user.department_code else "") if user else ""
    return html.Div([
        dcc.Location(id="url"),
        html.Header([
            html.Span(t("app_title"), className="brand"),
            html.Nav([dcc.Link(t(key), href=href, className="nav-link", id=f"nav-{key}")
                      for key, href in NAV]),
            html.Span([
                html.Span(who, id="current-user"),
                html.A("English" if other == "en" else "中文", href=f"/lang/{other}",
                       id="switch-language", className="lang"),
                html.A(t("logout"), href="/logout", id="logout"),
            ], className="user"),
        ], className="topbar"),
        html.Main(dash.page_container, className="page"),
    ])


def create_app(settings: Settings, secret_key: str | None = None) -> dash.Dash:
    server = flask.Flask(__name__)
    server.config.update(
        SECRET_KEY=secret_key or auth.secret_key(settings.home, dict(os.environ)),
        SESSION_COOKIE_NAME="qloop_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Only a changed session is sent back. Re-sending it on every response let a slow
        # callback, started before /lang/en, write the old language back over the new one.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    server.config[CONFIG_KEY] = BoardContext(settings, open_workflow(settings))
    auth.init_auth(server)
    init_data_docs(server)
    init_closure_download(server)
    app = dash.Dash(
        __name__, server=server, use_pages=True, pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"), serve_locally=True, title="QualityLoop",
        suppress_callback_exceptions=True, update_title=None, on_error=refuse_bad_input,
    )
    app.layout = shell
    server.register_error_handler(CallbackException, refuse_mismatched_request)
    init_security(app, dict(os.environ))
    return app
