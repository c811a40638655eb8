"""The pure parts of compaction across machines: a task's description and id, who may reach a
worker's routes, and what the pages say."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cctv_server.access import rules
from cctv_server.access.rules import Principal
from cctv_server.access.tokens import WORKER, Token
from cctv_server.compaction import chunks, encoding
from cctv_server.compaction.schedule import day_state
from cctv_server.tasks import queue, task
from cctv_server.web.guard import classify


def _task(digest: str = "a" * 64, crf: int = 29) -> task.ChunkTask:
    segments = (task.Segment("10-00-00.ts", 1000, digest, 2.0),
                task.Segment("10-00-02.ts", 900, "b" * 64, 2.0, 0.05))
    profile = dataclasses.asdict(dataclasses.replace(encoding.DEFAULT, crf=crf, threads=1))
    return task.ChunkTask("porch", "2024-05-01", "video.mp4", 1, segments, 4.0, profile, 10.0,
                          (4.0,), (160, 90))


def test_a_task_id_is_the_same_for_the_same_chunk_and_differs_for_other_bytes_or_profile():
    assert _task().id == _task().id
    assert task.ID.fullmatch(_task().id)
    assert _task(digest="c" * 64).id != _task().id
    assert _task(crf=30).id != _task().id


def test_a_task_survives_its_trip_through_the_broker_as_plain_data():
    made = _task()
    back = task.from_dict(queue.message(made, 3).args[0])
    assert back == made and back.id == made.id


def test_a_message_that_is_no_task_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="not a chunk task"):
        task.from_dict({"camera": "porch"})


def test_a_message_carries_the_retries_and_a_time_limit_longer_than_its_footage():
    sent = queue.message(_task(), 3)
    assert sent.options["max_retries"] == 3 and sent.options["task_id"] == _task().id
    assert sent.options["time_limit"] > 4.0 * 1000


def test_a_workers_encode_is_the_in_process_chunk_command_on_its_own_copies():
    folder = Path("/work/task")
    argv = task.argv(_task(), "ffmpeg", folder, folder / "list", folder / "out.mp4",
                     folder / "out.frames")
    assert argv[0] == "ffmpeg" and argv[-1] == "/work/task/out.mp4"
    assert "-stats_enc_pre" in argv and "pools=1" in " ".join(argv)
    assert "160x90" in argv
    listed = task.concat_list(_task(), folder)
    assert "file '/work/task/10-00-00.ts'" in listed and "file '/work/task/10-00-02.ts'" in listed


def test_only_the_workers_routes_are_work_and_a_worker_token_reaches_nothing_else():
    worker = Principal("token", token=Token("abcd", WORKER, "pc", 0.0, None))
    camera = Principal("token", token=Token("efgh", "porch", "", 0.0, None))
    assert classify("PUT", "/cam/porch/worker/2024-05-01/tasks/x.mp4", ["porch"]).action == rules.WORK
    assert classify("GET", "/worker/whoami", ["porch", "yard"]).action == rules.WORK
    assert rules.allows(worker, rules.WORK, "porch") is None
    for action in (rules.WATCH, rules.EXPORT, rules.ADMIN, rules.UPLOAD):
        assert rules.allows(worker, action, "porch") is not None
    for who in (camera, rules.OPEN, rules.ANONYMOUS):
        assert rules.allows(who, rules.WORK, "porch") is not None


def test_the_index_says_how_many_workers_made_a_video_and_why_a_day_waits():
    args = dict(segments=0, videos=1, video_size=100, ready_at=None, now=10.0,
                clock=str, size=lambda n: f"{n} B")
    assert "by 3 workers" in day_state(row={"workers": 3}, **args).text
    assert "by 1 worker)" in day_state(row={"workers": 1}, **args).text
    waiting = day_state(**{**args, "segments": 4}, row={
        "state": "compacting", "percent": 0, "updated": 9.0,
        "reason": "waiting for a worker: none alive, 4 of 4 chunks queued"})
    assert waiting.text == "compacting (0%, waiting for a worker: none alive, 4 of 4 chunks queued)"


def test_workers_silent_longer_than_the_timeout_are_not_alive():
    found = {"a": {"seen": 100.0}, "b": {"seen": 95.0}}
    assert queue.alive(found, now=104.0, timeout=5.0) == ["a"]


def test_without_a_broker_a_day_is_encoded_in_process_in_as_many_chunks_as_before(tmp_path):
    parts = [chunks.Part(tmp_path / f"{k}.ts", 2.0) for k in range(8)]
    assert len(chunks.plan(parts, 2)) == 2
    assert len(chunks.plan(parts, 2, target=4.0)) == 4  # the broker's chunk_seconds
