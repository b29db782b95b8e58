"""Alerts to the data engineers: always a line in `<home>/runs/alerts.jsonl` (the board's
data health page and the run log read it), and an e-mail when SMTP is configured and
`QLOOP_ALERT_TO` names recipients."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from .remediation.mailer import SmtpConfig, send_alert
from .settings import Settings

ALERT_TO_ENV = "QLOOP_ALERT_TO"


@dataclass(frozen=True)
class Alert:
    at: str
    kind: str  # run_failure | blocking_check | missing_day ...
    subject: str
    body: str
    run_id: str | None = None
    mailed: bool = False
    mail_error: str | None = None


def alerts_log(settings: Settings) -> Path:
    return settings.runs / "alerts.jsonl"


def raise_alert(settings: Settings, kind: str, subject: str, body: str,
                run_id: str | None = None, environ: dict | None = None) -> Alert:
    environ = dict(os.environ) if environ is None else environ
    recipients = [a.strip() for a in environ.get(ALERT_TO_ENV, "").split(",") if a.strip()]
    config = SmtpConfig.from_env(environ)
    mailed, error = False, None
    if config is not None and recipients:
        result = send_alert(config, recipients, f"[QualityLoop] {subject}", body)
        mailed, error = result.ok, result.error
    alert = Alert(datetime.now().isoformat(timespec="seconds"), kind, subject, body, run_id,
                  mailed, error)
    settings.runs.mkdir(parents=True, exist_ok=True)
    with open(alerts_log(settings), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(alert), ensure_ascii=False) + "\n")
    return alert


def read_alerts(settings: Settings, last: int = 50) -> list[dict]:
    path = alerts_log(settings)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-last:]
    return [json.loads(line) for line in lines if line.strip()]
