"""Security alerts from the audit log: a listener called after each write (its failure logged,
never raised), the limiter firing, a revoked token presented, an upload refused."""

import json
import logging
from zoneinfo import ZoneInfo

from cctv_server.access.audit import AuditLog
from cctv_server.access.store import Store
from cctv_server.access.tokens import Tokens
from cctv_server.alerts.alert import Alert
from cctv_server.alerts.outbox import Outbox
from cctv_server.alerts.service import Service

UTC = ZoneInfo("UTC")


def _raised(tmp_path) -> list[Alert]:
    return [Alert.from_json(p.read_text())
            for p in sorted((tmp_path / "alerts" / "new").glob("*.json"))]


def test_a_failing_listener_is_logged_and_the_write_still_happens(tmp_path, caplog):
    audit = AuditLog(tmp_path, UTC)
    heard = []
    audit.subscribe(lambda event: 1 / 0)
    audit.subscribe(heard.append)
    with caplog.at_level(logging.ERROR):
        audit.write("sign-in", account="ann", address="10.0.0.1")
    assert [e["event"] for e in audit.read()] == ["sign-in"]
    assert heard[0]["account"] == "ann" and "listener failed on sign-in" in caplog.text


def test_audit_events_written_raise_security_and_disk_alerts(tmp_path):
    audit = AuditLog(tmp_path, UTC)
    service = Service(Outbox(tmp_path), [], [], UTC)
    audit.subscribe(service.on_audit)
    audit.write("sign-in failed", account="ann", address="10.0.0.9")
    audit.write("sign-in limited", account="ann", address="10.0.0.9", retry_after=60)
    audit.write("sign-in limited", account="ann", address="10.0.0.9", retry_after=60)  # the same
    audit.write("upload refused", camera="porch", reason="disk", bytes=4096, token="ab12cd34")
    kinds = [(a.kind, a.title) for a in _raised(tmp_path)]
    assert sorted(kinds) == [("disk", "porch: uploads refused (disk)"),
                             ("security", "Repeated failed sign-ins")]


def test_a_revoked_token_is_told_apart_from_a_stranger_s(tmp_path):
    tokens = Tokens(Store(tmp_path))
    token, secret = tokens.add("porch")
    _, other = tokens.add("porch")
    tokens.revoke(token.id)
    assert tokens.check(secret) is None
    assert tokens.revoked(secret).camera == "porch"
    assert tokens.revoked(secret[:-2] + "xx") is None  # its id with a wrong secret
    assert tokens.revoked(other) is None and tokens.revoked("nonsense") is None


def test_a_revoked_token_presented_raises_a_security_alert_saying_from_where(tmp_path):
    audit = AuditLog(tmp_path, UTC)
    service = Service(Outbox(tmp_path), [], [], UTC)
    audit.subscribe(service.on_audit)
    audit.write("revoked token used", token="ab12cd34", camera="porch", address="10.0.0.7")
    [alert] = _raised(tmp_path)
    assert alert.kind == "security" and alert.camera == "porch" and "10.0.0.7" in alert.body
    assert json.loads((tmp_path / "audit.log").read_text())["token"] == "ab12cd34"


def test_the_tail_reads_only_new_lines_and_a_rotated_log_from_its_start(tmp_path):
    from cctv_server.alerts.audittail import AuditTail

    audit = AuditLog(tmp_path, UTC)
    audit.write("sign-in", account="old")
    tail = AuditTail(audit.path)
    tail.skip_to_end()
    audit.write("hold", camera="porch")
    assert [e["event"] for e in tail.new_events()] == ["hold"]
    audit.path.rename(tmp_path / "audit.log.1")  # rotated
    audit.write("release", camera="porch")
    with open(audit.path, "ab") as f:
        f.write(b'{"event": "torn')  # a line cut short: read once it is whole
    assert [e["event"] for e in tail.new_events()] == ["release"]
    assert tail.new_events() == []
