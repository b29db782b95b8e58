"""What every page and callback needs, held by the Flask app: the settings, the issue
workflow (the only way to change an issue) and who is logged in."""

from __future__ import annotations

from dataclasses import dataclass

import flask

from dagster_project.lib.remediation.rules import Actor
from dagster_project.lib.remediation.workflow import Workflow
from dagster_project.lib.settings import Settings

CONFIG_KEY = "QLOOP_BOARD"


@dataclass(frozen=True)
class BoardContext:
    settings: Settings
    workflow: Workflow


def board() -> BoardContext:
    return flask.current_app.config[CONFIG_KEY]


def current_user() -> Actor | None:
    user = flask.session.get("user")
    if not user:
        return None
    return Actor(user["name"], user["role"], user.get("department_code"))


def current_display_name() -> str:
    user = flask.session.get("user") or {}
    return user.get("display_name") or user.get("name", "")
