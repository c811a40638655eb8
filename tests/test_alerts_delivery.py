"""Delivery with Apprise to real receivers: e-mail over SMTP with the still attached, a JSON
webhook, ntfy; a reason for a failure says no secret; `alerts test` answers for each target."""

import base64
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

from cctv_server.alerts import deliver, targets
from cctv_server.alerts.alert import Alert

from .alert_receivers import Mailbox
from .conftest import free_port


def _activity(still: bytes) -> Alert:
    return Alert("activity", "porch: activity at 12:00:05", "Activity on porch.\nhttp://x/cam/porch/",
                 "activity:porch:1", time.time(), "porch", still, "http://x/cam/porch/")


def test_an_email_alert_reaches_a_real_smtp_server_with_its_still_attached(still):
    box = Mailbox()
    try:
        why = deliver.send(targets.parse(1, {"url": box.url()}), _activity(still))
        assert why is None
        [message] = box.messages
        assert message["Subject"] == "porch: activity at 12:00:05"
        jpegs = [p.get_payload(decode=True) for p in message.walk()
                 if p.get_content_type() == "image/jpeg"]
        assert jpegs == [still]
    finally:
        box.close()


def test_a_webhook_receives_the_alert_as_json_with_the_still(receiver, still):
    assert deliver.send(targets.parse(1, {"url": receiver.url()}), _activity(still)) is None
    [request] = receiver.requests
    body = json.loads(request["body"])
    assert body["title"] == "porch: activity at 12:00:05" and "http://x/cam/porch/" in body["message"]
    assert base64.b64decode(body["attachments"][0]["base64"]) == still


def test_ntfy_receives_the_alert_with_the_still_as_its_attachment(receiver, still):
    url = receiver.url("ntfy", "cctv-topic")
    assert deliver.send(targets.parse(1, {"url": url}), _activity(still)) is None
    [request] = receiver.requests
    assert request["path"].startswith("/cctv-topic") and "porch" in request["path"]
    assert request["body"] == still


def test_why_a_delivery_failed_never_shows_the_secrets_of_its_url(caplog):
    url = f"json://ann:s3cretpass@127.0.0.1:{free_port()}/tok3nvalue"
    with caplog.at_level(logging.DEBUG):
        why = deliver.send(targets.parse(1, {"url": url}), _activity(b""))
    assert why is not None and "127.0.0.1" in why
    # Apprise's own records (which do name the URL) stay out of the server's log
    assert logging.getLogger("apprise").propagate is False
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("apprise"))
    for secret in ("s3cretpass", "tok3nvalue"):
        assert secret not in why and secret not in ours


def test_alerts_test_says_for_each_target_delivered_or_why_not(receiver, tmp_path: Path):
    closed = f"json://u:hunter22pw@127.0.0.1:{free_port()}/k3yk3y"
    config = tmp_path / "cctv.toml"
    config.write_text(f'[[alerts]]\nurl = "{receiver.url()}"\n\n[[alerts]]\nurl = "{closed}"\n\n'
                      '[[alerts]]\nurl = "json://127.0.0.1:1/x"\nevents = ["offline"]\n')
    done = subprocess.run([sys.executable, "-m", "cctv_server.cli", "--config", str(config),
                           "alerts", "test"], capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr
    assert lines[0] == "alerts[1] (json): delivered"
    assert lines[1].startswith("alerts[2] (json): NOT delivered: ")
    assert lines[2] == "alerts[3] (json): skipped (its events leave out test)"
    assert "hunter22pw" not in done.stdout + done.stderr and "k3yk3y" not in done.stdout
    assert json.loads(receiver.requests[0]["body"])["title"] == "cctv-server test alert"
