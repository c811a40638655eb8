"""The alert rules, pure: plain values in, alerts out, `now` given."""

from zoneinfo import ZoneInfo

import pytest

from cctv_server.alerts import rules, targets
from cctv_server.alerts.alert import Alert
from cctv_server.alerts.rules import ActivityEvent, Presence
from cctv_server.errors import ConfigError

UTC = ZoneInfo("UTC")
T = 1_780_000_000.0  # some instant


def test_a_camera_without_any_segment_never_raises_offline():
    state, alert = rules.presence("porch", None, Presence(), T + 86400, 600)
    assert alert is None and state == Presence()


def test_offline_is_raised_once_when_no_segment_arrived_for_offline_after():
    state, alert = rules.presence("porch", T, Presence(), T + 599, 600)
    assert alert is None
    state, alert = rules.presence("porch", T, state, T + 600, 600)
    assert alert.kind == "offline" and alert.camera == "porch" and "10m 00s" in alert.body
    state, again = rules.presence("porch", T, state, T + 900, 600)
    assert again is None


def test_online_says_how_long_the_camera_was_gone():
    state, _ = rules.presence("porch", T, Presence(), T + 700, 600)
    state, alert = rules.presence("porch", T + 1500, state, T + 1501, 600)
    assert alert.kind == "online" and "25m 00s" in alert.body
    assert state == Presence(T + 1500)


def test_two_outages_have_different_keys_so_neither_is_coalesced():
    s1, a1 = rules.presence("porch", T, Presence(), T + 700, 600)
    s2, _ = rules.presence("porch", T + 800, s1, T + 801, 600)
    _, a2 = rules.presence("porch", T + 800, s2, T + 1500, 600)
    assert a1.key != a2.key


def test_disk_alerts_when_a_filesystem_falls_short_and_not_again_while_it_stays_short():
    was, found = rules.disk({"/srv": (10, 100)}, frozenset(), T, UTC)
    assert [a.kind for a in found] == ["disk"] and "/srv" in found[0].title
    was, found = rules.disk({"/srv": (5, 100)}, was, T + 60, UTC)
    assert found == []
    was, found = rules.disk({}, was, T + 120, UTC)
    assert was == frozenset() and found == []


def test_a_failing_compaction_has_one_key_a_day_whatever_the_retries():
    rows = {"2026-05-01": {"state": "failed", "failures": 3, "reason": "ffmpeg exited 1"},
            "2026-05-02": {"state": "compacted"}}
    first = rules.compaction("porch", rows, T, UTC)
    retried = rules.compaction("porch", {**rows, "2026-05-01": {**rows["2026-05-01"],
                                                                "failures": 4}}, T + 600, UTC)
    tomorrow = rules.compaction("porch", rows, T + 86400, UTC)
    assert len(first) == 1 and "ffmpeg exited 1" in first[0].body
    assert first[0].key == retried[0].key != tomorrow[0].key


def test_quarantine_alerts_only_when_more_files_are_quarantined():
    assert rules.quarantine("porch", 0, None, T) == []
    assert len(rules.quarantine("porch", 2, 0, T)) == 1
    assert rules.quarantine("porch", 2, 2, T) == []


def test_audit_events_map_to_security_and_disk_alerts():
    limited = rules.from_audit({"event": "sign-in limited", "account": "ann",
                                "address": "10.0.0.9", "retry_after": 60}, T)
    revoked = rules.from_audit({"event": "revoked token used", "token": "ab12cd34",
                                "camera": "porch", "address": "10.0.0.7"}, T)
    quota = rules.from_audit({"event": "upload refused", "camera": "porch", "reason": "quota",
                              "bytes": 1000, "token": "ab12cd34"}, T)
    bitrate = rules.from_audit({"event": "upload refused", "camera": "porch",
                                "reason": "bitrate", "bytes": 1000}, T)
    assert (limited.kind, revoked.kind, quota.kind, bitrate.kind) == (
        "security", "security", "disk", "security")
    assert "10.0.0.9" in limited.body and revoked.camera == "porch"
    assert rules.from_audit({"event": "sign-in", "account": "ann"}, T) is None


def test_activity_alerts_are_rate_limited_per_camera():
    assert rules.activity_due(None, T, 300)
    assert not rules.activity_due(T, T + 299, 300)
    assert rules.activity_due(T, T + 300, 300)


def test_an_activity_alert_carries_its_still_and_the_player_link():
    event = ActivityEvent("porch", T, T + 12, T + 5, 0.8, b"\xff\xd8jpeg", "http://x/cam/porch/")
    alert = rules.activity(event, T + 20, UTC)
    assert alert.still == b"\xff\xd8jpeg" and alert.link == "http://x/cam/porch/"
    assert "http://x/cam/porch/" in alert.body and alert.kind == "activity"


def _alert(kind: str, hour: int, camera: str | None = "porch") -> Alert:
    return Alert(kind, "t", "b", "k", T - T % 86400 + hour * 3600, camera)


def test_quiet_hours_let_only_offline_disk_and_security_through():
    every = frozenset({"offline", "activity", "disk", "security", "compaction"})
    quiet = (22 * 60, 7 * 60)
    assert not rules.wants(every, None, quiet, _alert("activity", 23), UTC)
    assert not rules.wants(every, None, quiet, _alert("compaction", 3), UTC)
    assert rules.wants(every, None, quiet, _alert("activity", 12), UTC)
    for kind in ("offline", "disk", "security"):
        assert rules.wants(every, None, quiet, _alert(kind, 2), UTC)


def test_a_target_takes_only_its_events_and_its_cameras():
    assert not rules.wants(frozenset({"offline"}), None, None, _alert("activity", 12), UTC)
    assert not rules.wants(frozenset({"offline"}), frozenset({"drive"}), None,
                           _alert("offline", 12), UTC)
    assert rules.wants(frozenset({"disk"}), frozenset({"drive"}), None,
                       _alert("disk", 12, camera=None), UTC)


def test_retries_back_off_up_to_five_minutes():
    assert [rules.retry_after(n) for n in (1, 2, 3)] == [2, 4, 8]
    assert rules.retry_after(50) == 300


def test_alerts_tables_are_parsed_and_a_bad_key_is_named():
    target = targets.parse(1, {"url": "ntfys://ntfy.sh/topic", "events": ["offline", "disk"],
                               "cameras": ["porch"], "quiet": "22:00-07:00"})
    assert target.events == {"offline", "disk"} and target.cameras == {"porch"}
    assert target.quiet == (1320, 420) and target.kind == "ntfys"
    assert "ntfy.sh" not in target.name and "topic" not in target.id
    with pytest.raises(ConfigError, match=r"alerts\[2\]\.events'.*sneeze"):
        targets.parse(2, {"url": "json://h/", "events": ["sneeze"]})
    with pytest.raises(ConfigError, match=r"alerts\[3\]\.quiet'"):
        targets.parse(3, {"url": "json://h/", "quiet": "late"})
    with pytest.raises(ConfigError, match=r"alerts\[4\]\.colour'"):
        targets.parse(4, {"url": "json://h/", "colour": "red"})


def test_a_config_file_with_alerts_tables_loads_and_offline_after_may_be_set_per_camera(tmp_path):
    from cctv_server import cameras, config

    file = tmp_path / "cctv.toml"
    file.write_text('offline_after = "5m"\n[cameras.porch]\nroot = "/srv/porch"\n'
                    'offline_after = "90s"\n[cameras.drive]\nroot = "/srv/drive"\n\n'
                    '[[alerts]]\nurl = "ntfys://ntfy.sh/t"\nquiet = "23:00-06:30"\n')
    settings = config.load(file, env={})
    found = {c.name: c.settings.offline_after for c in cameras.load(settings, file)}
    assert found == {"porch": 90.0, "drive": 300.0}
    assert [t.quiet for t in targets.load(file)] == [(1380, 390)]


def test_days_deleted_for_free_space_alert_once_a_day_per_camera_and_by_age_not_at_all():
    purge = {"event": "retention-delete", "camera": "porch", "day": "2026-05-01",
             "reason": "free space", "bytes": 1 << 30}
    first = rules.from_audit(purge, T)
    second = rules.from_audit({**purge, "day": "2026-05-02"}, T + 60)
    assert first.kind == "disk" and "2026-05-01" in first.body and first.key == second.key
    assert rules.from_audit({**purge, "reason": "age"}, T) is None
