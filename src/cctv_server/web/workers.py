"""The routes of a worker (tasks/): who its token is, the segments of a day being compacted, and a chunk sent back."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from .. import layout
from ..compaction.journal import Journal, read_journal
from ..errors import Conflict, InvalidInput, NotFound, TooLarge, Unprocessable
from ..tasks.task import ID, KINDS, result_name
from . import guard

log = logging.getLogger(__name__)

SLACK = 16 << 20  # bytes a chunk may exceed twice its day's segments by (a tiny day's headers)


async def whoami(request: Request) -> JSONResponse:
    """The worker's token as the server knows it: a worker's first request, and its name."""
    token = guard.principal(request).token
    return JSONResponse({"name": token.name, "id": token.id})


async def segment(request: Request) -> FileResponse:
    """`GET worker/DAY/NAME`: a segment of a video being made, with byte ranges; no other file."""
    state = request.app.state.cctv
    day, name = request.path_params["day"], request.path_params["name"]
    journal = await run_in_threadpool(_journal, state.root, day)
    if name not in {i.name for i in journal.inputs}:
        raise NotFound(f"{day}/{name} is not a segment of the video being made")
    return FileResponse(state.root.resolve(day, name), media_type="video/mp2t")


async def result(request: Request) -> JSONResponse:
    """`PUT worker/DAY/tasks/ID.mp4|ID.frames` with `Repr-Digest: sha-256=:B64:`: a task's
    result, kept under its task id beside the day's other chunks once its bytes match."""
    state = request.app.state.cctv
    day, file = request.path_params["day"], request.path_params["file"]
    task_id, _, kind = file.partition(".")
    if not ID.fullmatch(task_id) or kind not in KINDS:
        raise InvalidInput(f"{file!r} is not a task's result (ID.mp4 or ID.frames)")
    digest = _digest(request.headers.get("repr-digest", ""))
    journal = await run_in_threadpool(_journal, state.root, day)
    work = state.root.day_dir(day) / layout.work_name(journal.video)
    limit = 2 * sum(i.size for i in journal.inputs) + SLACK
    temp = work / f".{file}.{secrets.token_hex(4)}.part"
    try:
        found = await _receive(request, temp, limit)
        if found != digest:
            raise Unprocessable(f"the bytes of {file} do not match the SHA-256 sent with them")
        worker = guard.principal(request).token.name
        if kind == "mp4":  # its video last: its arrival says the task is done
            (work / result_name(task_id, "worker")).write_text(worker + "\n")
        os.replace(temp, work / result_name(task_id, kind))
    except FileNotFoundError:
        raise Conflict(f"{day} is not being compacted (its chunks are joined, or given up)") from None
    finally:
        temp.unlink(missing_ok=True)
    if kind == "mp4":
        log.info("%s: chunk of task %s received from worker %s", day, task_id, worker)
    return JSONResponse({"task": task_id, "kind": kind, "sha256": found}, status_code=201)


async def _receive(request: Request, temp: Path, limit: int) -> str:
    """The body into `temp`, at most `limit` bytes (413 beyond); its SHA-256."""
    digest, size = hashlib.sha256(), 0
    with open(temp, "xb") as f:
        async for block in request.stream():
            size += len(block)
            if size > limit:
                raise TooLarge(f"a chunk of more than {limit} bytes is not this day's")
            digest.update(block)
            await run_in_threadpool(f.write, block)
    return digest.hexdigest()


def _journal(root, day: str) -> Journal:
    """The journal of a day being encoded; 409 when the day is not."""
    journal = read_journal(root.day_dir(day))
    if not journal or journal.phase != "encode":
        raise Conflict(f"{day} is not being compacted")
    return journal


def _digest(header: str) -> str:
    """The hex SHA-256 of `Repr-Digest: sha-256=:BASE64:`; 400 without one."""
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name.strip().lower() == "sha-256" and value.startswith(":") and value.endswith(":"):
            try:
                raw = base64.b64decode(value[1:-1], validate=True)
            except binascii.Error:
                break
            if len(raw) == 32:
                return raw.hex()
    raise InvalidInput("send the result's SHA-256 as Repr-Digest: sha-256=:BASE64:")


ROUTES = [  # a camera's; /worker/whoami is the server's (web/server.py)
    Route("/worker/{day}/tasks/{file}", result, methods=["PUT"]),
    Route("/worker/{day}/{name}", segment),
]
