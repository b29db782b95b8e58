"""The board's HTTP hardening, all with Flask's and Werkzeug's own settings:

- response headers: no framing by other sites (X-Frame-Options and CSP frame-ancestors),
  a Content-Security-Policy that allows scripts from the board itself and Dash's inline
  renderer script (by its hash), no MIME sniffing, no referrer to other sites;
- request bodies of at most MAX_REQUEST_BYTES (Flask's MAX_CONTENT_LENGTH: 413 with a
  clear message);
- behind a TLS proxy: `QLOOP_BOARD_SECURE_COOKIE=1` sends the session cookie over HTTPS
  only, and `QLOOP_BOARD_PROXIES=N` trusts the X-Forwarded-For/-Proto/-Host headers of
  the N proxies in front (Werkzeug's ProxyFix), so the client address (the login
  throttle's key) and the scheme are the real ones. Without it these headers are ignored.
"""

from __future__ import annotations

import dash
import flask
from werkzeug.middleware.proxy_fix import ProxyFix

SECURE_COOKIE_ENV = "QLOOP_BOARD_SECURE_COOKIE"
PROXIES_ENV = "QLOOP_BOARD_PROXIES"
MAX_REQUEST_BYTES = 256 * 1024
# Styles: Dash and Plotly set inline styles; scripts are what CSP must hold to.
BOARD_POLICY = ("default-src 'self'; script-src 'self' {hashes}; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                "font-src 'self' data:; connect-src 'self'; object-src 'none'; "
                "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
STATIC_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                  "Referrer-Policy": "same-origin"}
_TRUE = frozenset({"1", "true", "yes", "on"})


def too_large(_error):
    limit = MAX_REQUEST_BYTES // 1024
    return flask.Response(f"Request too large: at most {limit} KB. 请求过大：最多 {limit} KB。",
                          status=413, mimetype="text/plain")


def proxy_count(environ: dict) -> int:
    raw = environ.get(PROXIES_ENV, "").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"{PROXIES_ENV} must be the number of proxies in front of the "
                         f"board (0, 1, ...), got {raw!r}")
    return int(raw)


def init_security(app: dash.Dash, environ: dict) -> None:
    server = app.server
    server.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_SECURE=environ.get(SECURE_COOKIE_ENV, "").strip().lower() in _TRUE)
    server.register_error_handler(413, too_large)
    proxies = proxy_count(environ)
    if proxies:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies,
                                   x_host=proxies)
    policy: list[str] = []  # computed once, at the first response: all callbacks are known

    def add_headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(BOARD_POLICY.format(hashes=" ".join(app.csp_hashes())))
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", policy[0])
        return response

    server.after_request(add_headers)
