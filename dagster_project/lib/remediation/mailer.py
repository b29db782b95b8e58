"""SMTP delivery of the closure lists and of run-failure alerts (stdlib smtplib/email).

Delivery is best effort per department: one department's refused address or an SMTP
outage becomes that department's `DeliveryResult(ok=False, error=...)`; it never raises
and never stops the other departments. Only `send_mail` raises (it is the building block).
Settings come from QLOOP_SMTP_* environment variables; no host means "mail disabled".
"""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path

from dagster_project.lib.remediation.closure_list import ClosureListFiles

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MIME_BY_SUFFIX = {".xlsx": XLSX_MIME, ".csv": "text/csv"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
NOT_CONFIGURED = "SMTP not configured (QLOOP_SMTP_HOST is unset)"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # keep secrets out of logs
    sender: str = "qualityloop@localhost"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpConfig | None:
        """Read QLOOP_SMTP_*; None when QLOOP_SMTP_HOST is unset or empty (mail disabled).

        The port defaults to 25, or 465 when QLOOP_SMTP_SSL is on (implicit TLS).
        QLOOP_SMTP_TIMEOUT (seconds, default 30) is read as well. Bad values raise a
        ValueError naming the variable.
        """
        host = environ.get("QLOOP_SMTP_HOST", "").strip()
        if not host:
            return None
        use_ssl = _env_bool(environ, "QLOOP_SMTP_SSL")
        starttls = _env_bool(environ, "QLOOP_SMTP_STARTTLS")
        if use_ssl and starttls:
            raise ValueError("QLOOP_SMTP_SSL and QLOOP_SMTP_STARTTLS are exclusive; set one")
        return cls(
            host=host,
            port=_env_port(environ, default=465 if use_ssl else 25),
            user=environ.get("QLOOP_SMTP_USER") or None,
            password=environ.get("QLOOP_SMTP_PASSWORD") or None,
            sender=environ.get("QLOOP_SMTP_FROM", "").strip() or "qualityloop@localhost",
            starttls=starttls,
            ssl=use_ssl,
            timeout=_env_timeout(environ),
        )


@dataclass(frozen=True)
class DeliveryResult:
    department_code: str | None  # None for alerts
    recipients: tuple[str, ...]
    ok: bool
    error: str | None = None


# --------------------------------------------------------------------------- settings


def _env_bool(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{name}={environ[name]!r} is not a boolean (use 1/0, true/false)")


def _env_port(environ: Mapping[str, str], default: int) -> int:
    raw = environ.get("QLOOP_SMTP_PORT", "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"QLOOP_SMTP_PORT={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"QLOOP_SMTP_PORT={port} is out of range 1..65535")
    return port


def _env_timeout(environ: Mapping[str, str]) -> float:
    raw = environ.get("QLOOP_SMTP_TIMEOUT", "").strip()
    if not raw:
        return 30.0
    try:
        timeout = float(raw)
    except ValueError:
        raise ValueError(f"QLOOP_SMTP_TIMEOUT={raw!r} is not a number of seconds") from None
    if timeout <= 0:
        raise ValueError(f"QLOOP_SMTP_TIMEOUT={raw!r} must be positive")
    return timeout


# --------------------------------------------------------------------------- messages


def _mime_type(path: Path) -> tuple[str, str]:
    mime = _MIME_BY_SUFFIX.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    maintype, _, subtype = (mime or "application/octet-stream").partition("/")
    return maintype, subtype


def _clean_recipients(to: Sequence[str]) -> list[str]:
    if isinstance(to, str):  # a bare string would be mailed one character at a time
        to = [to]
    return [addr.strip() for addr in to if addr and addr.strip()]


def build_message(sender: str, to: Sequence[str], subject: str, body: str,
                  attachments: Sequence[Path] = ()) -> EmailMessage:
    """A MIME message; headers RFC 2047, body UTF-8 base64, file names RFC 2231 if needed.

    Base64 keeps the Chinese body 7-bit clean, so it survives relays without 8BITMIME.
    Attachments are read here, before any connection is opened.
    """
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(body, charset="utf-8", cte="base64")
    for attachment in attachments:
        path = Path(attachment)
        maintype, subtype = _mime_type(path)
        # Always attached as bytes (base64), so the file arrives byte for byte; text
        # types (the CSV) also declare their charset: our files are UTF-8.
        params = {"charset": "utf-8"} if maintype == "text" else None
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype,
                           filename=path.name, params=params)
    return msg


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if config.ssl:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    if config.starttls:
        smtp.ehlo()
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo()
    return smtp


def deliver(config: SmtpConfig, msg: EmailMessage, to: Sequence[str]) -> None:
    """Send a built message; raises on any failure, including any refused recipient.

    smtplib only raises SMTPRecipientsRefused when *all* recipients are refused; here a
    partial refusal raises it too (after the others accepted the message), because the
    caller must learn that someone did not get the list.
    """
    with _connect(config) as smtp:
        if config.user:
            smtp.login(config.user, config.password or "")
        refused = smtp.send_message(msg, from_addr=config.sender, to_addrs=list(to))
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def send_mail(config: SmtpConfig, to: Sequence[str], subject: str, body: str,
              attachments: Sequence[Path] = ()) -> None:
    """Build and send one message; raises (ValueError, OSError, smtplib.SMTPException)."""
    recipients = _clean_recipients(to)
    if not recipients:
        raise ValueError("no recipients")
    deliver(config, build_message(config.sender, recipients, subject, body, attachments),
            recipients)


def describe_error(exc: BaseException, config: SmtpConfig) -> str:
    """A one-line, operator-readable reason for a failed delivery."""
    server = f"{config.host}:{config.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(f"{addr} ({code} {_text(reply)})"
                            for addr, (code, reply) in exc.recipients.items())
        return f"recipient refused by {server}: {refused}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication failed at {server}: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused by {server}: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP error from {server}: {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP error from {server}: {exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with SMTP server {server}: {exc}"
    if isinstance(exc, OSError):  # refused, unreachable, DNS, timeout
        return f"cannot connect to SMTP server {server}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


# --------------------------------------------------------------------------- use cases


def closure_subject(department_code: str, as_of_date: date) -> str:
    return f"销项清单 Closure list {department_code} {as_of_date.isoformat()}"


def closure_body(files: ClosureListFiles, as_of_date: date,
                 sections: Sequence[str] = ()) -> str:
    """The mail text; `sections`: more lines before the attachment's (the department's
    hotspots of the week)."""
    lines = [
        f"销项清单 Closure list — {files.department_code} — {as_of_date.isoformat()}",
        "",
        f"清单问题数 Issues listed: {files.rows}",
        f"逾期 Overdue: {files.overdue}",
        f"已升级 Escalated: {files.escalated}",
        "",
    ]
    if files.rows == 0:
        lines += ["本部门无未关闭问题。 Nothing open for this department.", ""]
    lines += list(sections)
    lines += [
        f"附件 Attachment: {files.xlsx.name}",
        "清单包括所有未关闭问题及近30天内关闭或取消的问题。",
        "The list holds every open issue and those closed or cancelled in the last 30 days.",
        "",
        "— QualityLoop",
    ]
    return "\n".join(lines)


def _attempt(config: SmtpConfig | None, department_code: str | None, to: Sequence[str],
             subject: str, body: str, attachments: Sequence[Path]) -> DeliveryResult:
    """send_mail turned into a result; never raises."""
    recipients = tuple(_clean_recipients(to))
    if config is None:
        return DeliveryResult(department_code, recipients, False, NOT_CONFIGURED)
    if not recipients:
        return DeliveryResult(department_code, recipients, False, "no recipients")
    try:
        msg = build_message(config.sender, recipients, subject, body, attachments)
    except Exception as exc:  # noqa: BLE001 - a missing attachment must not stop the others
        return DeliveryResult(department_code, recipients, False,
                              f"cannot build message: {type(exc).__name__}: {exc}")
    try:
        deliver(config, msg, recipients)
    except Exception as exc:  # noqa: BLE001 - one department's failure is its own result
        return DeliveryResult(department_code, recipients, False, describe_error(exc, config))
    return DeliveryResult(department_code, recipients, True, None)


def send_closure_lists(config: SmtpConfig | None, lists: Sequence[ClosureListFiles],
                       recipients_by_department: Mapping[str, Sequence[str]], *,
                       as_of_date: date,
                       sections: Mapping[str, Sequence[str]] | None = None
                       ) -> list[DeliveryResult]:
    """One e-mail per department with its workbook attached; one result per list, in order.

    A department without recipients gets ok=False, error "no recipients"; with
    `config` None (mail disabled) every result is ok=False with NOT_CONFIGURED.
    `sections` adds lines to a department's body (its hotspots of the week).
    """
    return [
        _attempt(config, files.department_code,
                 recipients_by_department.get(files.department_code, ()),
                 closure_subject(files.department_code, as_of_date),
                 closure_body(files, as_of_date, (sections or {}).get(files.department_code, ())),
                 (files.xlsx,))
        for files in lists
    ]


def send_alert(config: SmtpConfig | None, to: Sequence[str], subject: str,
               body: str) -> DeliveryResult:
    """A plain-text alert (e.g. a failed run); never raises, department_code is None."""
    return _attempt(config, None, to, subject, body, ())
