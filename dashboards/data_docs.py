"""GX Data Docs under /data-docs/: static files of `<home>/data-docs/`, behind the login
(the guard of dashboards.auth runs before every request), never outside that folder."""

from __future__ import annotations

import flask
from werkzeug.exceptions import NotFound

from .context import board


def data_docs(filename: str = "index.html"):
    root = board().settings.home / "data-docs"
    if not root.is_dir():
        raise NotFound()
    # send_from_directory refuses paths that escape the folder (safe_join): 404
    response = flask.send_from_directory(root, filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_data_docs(server: flask.Flask) -> None:
    server.add_url_rule("/data-docs/", "data_docs_index", data_docs)
    server.add_url_rule("/data-docs/<path:filename>", "data_docs", data_docs)
