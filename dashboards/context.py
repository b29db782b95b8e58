"""What every page and callback needs, held by the Flask app: the settings, the issue
workflow (the only way to change an issue) and who is logged in (loaded from the issue
store for each request by the login guard, dashboards.auth)."""

from __future__ import annotations

from dataclasses import dataclass

import flask

from dagster_project.lib.remediation.rules import Actor
from dagster_project.lib.remediation.sessions import SessionUser
from dagster_project.lib.remediation.workflow import Workflow
from dagster_project.lib.settings import Settings

CONFIG_KEY = "QLOOP_BOARD"
USER_KEY = "qloop_user"  # flask.g: the request's SessionUser


@dataclass(frozen=True)
class BoardContext:
    settings: Settings
    workflow: Workflow


def board() -> BoardContext:
    return flask.current_app.config[CONFIG_KEY]


def _session_user() -> SessionUser | None:
    return flask.g.get(USER_KEY)


def current_user() -> Actor | None:
    user = _session_user()
    return user.actor if user else None


def current_display_name() -> str:
    user = _session_user()
    return user.display_name if user else ""
