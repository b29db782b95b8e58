"""Mail delivery against a real SMTP server (aiosmtpd) on 127.0.0.1.

The handler records every accepted envelope and refuses any address starting with
"refused", so the partial-failure path is the real SMTP 550 path, not a mock.
"""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime

import pytest
from aiosmtpd.controller import Controller

from dagster_project.lib.remediation.closure_list import (
    ClosureRow,
    Department,
    write_department_lists,
)
from dagster_project.lib.remediation.mailer import (
    NOT_CONFIGURED,
    XLSX_MIME,
    DeliveryResult,
    SmtpConfig,
    send_alert,
    send_closure_lists,
    send_mail,
)

from .qloop_cli import free_port

AS_OF = date(2026, 11, 23)
DEPARTMENTS = [
    Department("CHANNEL", "渠道运营部", "Channel & store operations"),
    Department("HOTLINE", "10000号客服中心", "10000 hotline center"),
    Department("BILLING", "计费结算部", "Billing & settlement"),
]


class Collector:
    """aiosmtpd handler: keeps accepted envelopes, refuses "refused*" recipients."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, SmtpConfig(host="127.0.0.1", port=controller.port,
                                  sender="qualityloop@example.com", timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def lists(tmp_path):
    row = ClosureRow(
        issue_id=9, kpi_code="K01", kpi_name_zh="营业厅平均等待时长",
        kpi_name_en="Average store waiting time", region_code="GZ", region_name_zh="广州",
        region_name_en="Guangzhou", severity="P1", state="open",
        opened_at=datetime(2026, 11, 1, 8), current_deadline=datetime(2026, 11, 2, 8),
        days_open=22, days_overdue=21, escalation_level=2, responsible="张三",
        root_cause_category=None, corrective_actions=None, target_date=None, fix_date=None,
        verification_days=None, closed_at=None, reopen_count=0,
        last_update=datetime(2026, 11, 20, 9), overdue=True)
    return write_department_lists({"CHANNEL": [row]}, DEPARTMENTS, tmp_path,
                                  datetime(2026, 11, 23, 8, 0))


def parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def test_closure_lists_delivered_per_department(smtp_server, lists):
    handler, config = smtp_server
    recipients = {"CHANNEL": ["owner@example.com", "head@example.com"],
                  "HOTLINE": ["hotline@example.com"]}
    results = send_closure_lists(config, lists, recipients, as_of_date=AS_OF)

    assert results == [
        DeliveryResult("CHANNEL", ("owner@example.com", "head@example.com"), True, None),
        DeliveryResult("HOTLINE", ("hotline@example.com",), True, None),
        DeliveryResult("BILLING", (), False, "no recipients"),
    ]
    assert len(handler.envelopes) == 2
    channel, hotline = handler.envelopes
    assert channel.mail_from == "qualityloop@example.com"
    assert channel.rcpt_tos == ["owner@example.com", "head@example.com"]
    assert hotline.rcpt_tos == ["hotline@example.com"]

    msg = parse(channel)
    assert msg["Subject"] == "销项清单 Closure list CHANNEL 2026-11-23"
    assert b"=?utf-8?" in channel.content.split(b"\r\n\r\n", 1)[0]  # encoded on the wire
    body = msg.get_body(("plain",)).get_content()
    assert "逾期 Overdue: 1" in body and "已升级 Escalated: 1" in body
    assert "Issues listed: 1" in body
    attachments = list(msg.iter_attachments())
    assert len(attachments) == 1  # the workbook only, not the CSV
    (part,) = attachments
    assert part.get_content_type() == XLSX_MIME
    assert part.get_filename() == "closure_list_CHANNEL_20261123.xlsx"
    assert part.get_content() == lists[0].xlsx.read_bytes()

    hotline_msg = parse(hotline)
    assert hotline_msg["Subject"] == "销项清单 Closure list HOTLINE 2026-11-23"
    assert "Nothing open" in hotline_msg.get_body(("plain",)).get_content()
    (part,) = hotline_msg.iter_attachments()
    assert part.get_content() == lists[1].xlsx.read_bytes()


def test_refused_recipient_fails_only_that_department(smtp_server, lists):
    handler, config = smtp_server
    recipients = {"CHANNEL": ["refused@example.com"], "HOTLINE": ["hotline@example.com"],
                  "BILLING": ["billing@example.com", "refused-too@example.com"]}
    channel, hotline, billing = send_closure_lists(config, lists, recipients, as_of_date=AS_OF)

    assert channel.ok is False
    assert "refused@example.com" in channel.error and "550" in channel.error
    assert hotline.ok is True and hotline.error is None
    # Partly refused: the others got it, but the result says who did not.
    assert billing.ok is False and "refused-too@example.com" in billing.error
    assert [e.rcpt_tos for e in handler.envelopes] == [["hotline@example.com"],
                                                       ["billing@example.com"]]


def test_server_down_gives_connection_error(lists):
    config = SmtpConfig(host="127.0.0.1", port=free_port(), timeout=5)
    results = send_closure_lists(config, lists, {"CHANNEL": ["a@example.com"],
                                                 "HOTLINE": ["b@example.com"]},
                                 as_of_date=AS_OF)
    assert [r.ok for r in results] == [False, False, False]
    for result in results[:2]:
        assert "cannot connect" in result.error and str(config.port) in result.error
    assert results[2].error == "no recipients"


def test_missing_attachment_does_not_stop_the_others(smtp_server, lists):
    handler, config = smtp_server
    lists[0].xlsx.unlink()
    channel, hotline, _ = send_closure_lists(
        config, lists, {"CHANNEL": ["a@example.com"], "HOTLINE": ["b@example.com"]},
        as_of_date=AS_OF)
    assert channel.ok is False and "cannot build message" in channel.error
    assert hotline.ok is True
    assert [e.rcpt_tos for e in handler.envelopes] == [["b@example.com"]]


def test_send_mail_chinese_body_and_non_ascii_filename(smtp_server, tmp_path):
    handler, config = smtp_server
    attachment = tmp_path / "销项清单.xlsx"
    attachment.write_bytes(b"PK\x03\x04 not really a workbook")
    table = tmp_path / "list.csv"
    table.write_bytes("\ufeffissue_id,corrective_actions\n1,\"增加窗口\n调整排班\"\n".encode())
    send_mail(config, ["q@example.com"], "测试 Test", "你好，世界\n第二行", [attachment, table])
    (envelope,) = handler.envelopes
    assert b"filename*=utf-8''" in envelope.content  # RFC 2231
    msg = parse(envelope)
    assert msg["Subject"] == "测试 Test"
    # Text travels in canonical form (CRLF line ends, RFC 2049) inside the base64.
    body = msg.get_body(("plain",)).get_content()
    assert body.replace("\r\n", "\n").rstrip("\n") == "你好，世界\n第二行"
    part, csv_part = msg.iter_attachments()
    assert part.get_filename() == "销项清单.xlsx"
    assert part.get_content() == attachment.read_bytes()
    assert csv_part.get_content_type() == "text/csv"
    assert csv_part.get_payload(decode=True) == table.read_bytes()  # LF ends, BOM kept


def test_send_mail_raises_and_send_alert_does_not(smtp_server):
    handler, config = smtp_server
    with pytest.raises(ValueError, match="no recipients"):
        send_mail(config, [], "s", "b")
    down = SmtpConfig(host="127.0.0.1", port=free_port(), timeout=5)
    with pytest.raises(OSError):
        send_mail(down, ["x@example.com"], "s", "b")

    failed = send_alert(down, ["ops@example.com"], "运行失败 Run failed", "detail")
    assert failed == DeliveryResult(None, ("ops@example.com",), False, failed.error)
    assert "cannot connect" in failed.error
    assert send_alert(None, ["ops@example.com"], "s", "b").error == NOT_CONFIGURED

    ok = send_alert(config, "ops@example.com", "运行失败 Run failed", "资产 kpi 失败")
    assert ok.ok is True and ok.recipients == ("ops@example.com",)
    (envelope,) = handler.envelopes
    msg = parse(envelope)
    assert msg["Subject"] == "运行失败 Run failed"
    assert "资产 kpi 失败" in msg.get_content()


def test_no_config_means_nothing_sent(lists):
    results = send_closure_lists(None, lists, {"CHANNEL": ["a@example.com"]}, as_of_date=AS_OF)
    assert [r.error for r in results] == [NOT_CONFIGURED] * 3


# --------------------------------------------------------------------------- settings


def test_from_env_disabled_without_host():
    assert SmtpConfig.from_env({}) is None
    assert SmtpConfig.from_env({"QLOOP_SMTP_HOST": "  ", "QLOOP_SMTP_PORT": "x"}) is None


def test_from_env_defaults_and_values():
    config = SmtpConfig.from_env({"QLOOP_SMTP_HOST": "mail.example.com"})
    assert config == SmtpConfig(host="mail.example.com", port=25, user=None, password=None,
                                sender="qualityloop@localhost", starttls=False, ssl=False,
                                timeout=30.0)
    config = SmtpConfig.from_env({
        "QLOOP_SMTP_HOST": "mail.example.com", "QLOOP_SMTP_PORT": "587",
        "QLOOP_SMTP_USER": "ql", "QLOOP_SMTP_PASSWORD": "s3cret",
        "QLOOP_SMTP_FROM": "ql@example.com", "QLOOP_SMTP_STARTTLS": "true"})
    assert (config.port, config.user, config.password, config.sender) == (
        587, "ql", "s3cret", "ql@example.com")
    assert config.starttls is True and config.ssl is False
    assert "s3cret" not in repr(config)
    ssl_config = SmtpConfig.from_env({"QLOOP_SMTP_HOST": "h", "QLOOP_SMTP_SSL": "1"})
    assert ssl_config.ssl is True and ssl_config.port == 465


@pytest.mark.parametrize("env, variable", [
    ({"QLOOP_SMTP_PORT": "twenty-five"}, "QLOOP_SMTP_PORT"),
    ({"QLOOP_SMTP_PORT": "70000"}, "QLOOP_SMTP_PORT"),
    ({"QLOOP_SMTP_STARTTLS": "maybe"}, "QLOOP_SMTP_STARTTLS"),
    ({"QLOOP_SMTP_SSL": "1", "QLOOP_SMTP_STARTTLS": "1"}, "QLOOP_SMTP_SSL"),
])
def test_from_env_bad_values_name_the_variable(env, variable):
    with pytest.raises(ValueError, match=variable):
        SmtpConfig.from_env({"QLOOP_SMTP_HOST": "h", **env})
