"""GX Data Docs under /data-docs/: static files of `<home>/data-docs/`, behind the login
(the guard of dashboards.auth runs before every request), never outside that folder.

The pages as GX writes them load Bootstrap, jQuery and Font Awesome from CDNs, without
integrity hashes. They are served with a strict Content-Security-Policy instead: no script
at all, styles and images from the board only, so the browser fetches nothing from another
site; the pages are static HTML and stay readable (validate.OFFLINE_CSS)."""

from __future__ import annotations

import flask
from werkzeug.exceptions import NotFound

from .context import board

DATA_DOCS_POLICY = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def data_docs(filename: str = "index.html"):
    root = board().settings.home / "data-docs"
    if not root.is_dir():
        raise NotFound()
    # send_from_directory refuses paths that escape the folder (safe_join): 404
    response = flask.send_from_directory(root, filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DATA_DOCS_POLICY
    return response


def init_data_docs(server: flask.Flask) -> None:
    server.add_url_rule("/data-docs/", "data_docs_index", data_docs)
    server.add_url_rule("/data-docs/<path:filename>", "data_docs", data_docs)
