"""Thin handlers for activity: a day's heat and events, the next or previous event, stills, search.

A camera's app answers `api/activity/DAY`, `api/activity/near` and `activity/still/DAY/PEAK.jpg`;
the server answers `/events` (a page) and `/api/events` (JSON) across every camera the asker may
watch. A share link sees the events of its camera that overlap its range, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import layout
from ..access.rules import WATCH, allows
from ..activity import events, search, stills
from ..activity.events import Event
from ..errors import InvalidInput, NotFound
from ..footage import timeline
from ..media import ffmpeg
from . import guard, sharing

PAGE = 48  # stills on a page of /events
DEFAULT_SPAN = 7 * 86400  # seconds /events looks back without `from`


def _state(request: Request):
    return request.app.state.cctv


def _share_cut(request: Request, found: list[Event]) -> list[Event]:
    share = sharing.share_of(request)
    if share is None:
        return found
    return [e for e in found if e.camera == share.camera and e.end > share.start
            and e.start < share.end]


def _event_json(event: Event, tz, prefix: str = "") -> dict:
    return {**search.as_json(event, tz), "start_unix": event.start, "end_unix": event.end,
            "peak_unix": event.peak,
            "still": f"{prefix}activity/still/{event.day}/{event.peak}.jpg"}


async def day_activity(request: Request) -> JSONResponse:
    """`api/activity/DAY?step=S`: the day's activity as the highest of each S seconds (null
    where nothing was measured), and its events."""
    state = _state(request)
    day = request.path_params["day"]
    layout.parse_day(day, _today(state))
    step = _number(request.query_params.get("step", "60"), "step", 1, 3600)
    start, end = timeline.day_bounds(day, state.settings.tz)
    seconds, found = await run_in_threadpool(_day, state, day)
    share = sharing.share_of(request)
    if share is not None:
        seconds = {s: v for s, v in seconds.items() if share.start <= s < share.end}
    heat = events.heat(seconds, start, end, step)
    body = {"day": day, "start": start, "end": end, "step": step,
            "threshold": state.activity.threshold, "measuring": state.measurer is not None,
            "heat": heat, "events": [_event_json(e, state.settings.tz)
                                     for e in _share_cut(request, found)]}
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


def _day(state, day: str) -> tuple[dict[int, float], list[Event]]:
    return state.activity_index.seconds(day), state.activity.day(day)


def _today(state) -> dt.date:
    return dt.datetime.now(state.settings.tz).date()


async def near_event(request: Request) -> JSONResponse:
    """`api/activity/near?t=UNIX&dir=next|prev`: the first event after (or last before) t, on
    any day; `{"event": null}` when there is none."""
    state = _state(request)
    moment = _number(request.query_params.get("t"), "t", 0, 1e11)
    way = request.query_params.get("dir", "next")
    if way not in ("next", "prev"):
        raise InvalidInput("dir must be next or prev")
    find = state.activity.after if way == "next" else state.activity.before
    found = await run_in_threadpool(find, moment)
    found = found if found is None else (_share_cut(request, [found]) or [None])[0]
    return JSONResponse({"event": _event_json(found, state.settings.tz) if found else None},
                        headers={"Cache-Control": "no-cache"})


async def event_still(request: Request) -> Response:
    """`activity/still/DAY/PEAK.jpg`: the still at an event's peak; made now (and kept) if the
    measurer has not made it yet and the footage is there."""
    state = _state(request)
    day, peak = request.path_params["day"], request.path_params["peak"]
    layout.parse_day(day, _today(state))
    share = sharing.share_of(request)
    if share is not None and not share.start <= peak < share.end:
        raise NotFound("that still is outside the shared range")
    jpeg = await run_in_threadpool(_still, state, day, peak)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})


def _still(state, day: str, peak: int) -> bytes:
    jpeg = state.activity_index.still(day, peak)
    if jpeg is not None:
        return jpeg
    pieces = state.footage.day(day)
    jpeg = stills.make(state.measurer.binary if state.measurer else _binary(state),
                       state.root.day_dir(day), pieces, peak + 0.5)
    if jpeg is None:
        raise NotFound(f"no footage at that moment of {day}")
    state.activity_index.put_still(day, peak, jpeg)
    return jpeg


def _binary(state) -> str:
    return ffmpeg.locate(state.settings.ffmpeg)


def _number(text: str | None, name: str, low: float, high: float) -> int:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be a number from {low:g} to {high:g}")
    return int(value)


CAMERA_ROUTES = [
    Route("/api/activity/near", near_event),
    Route("/api/activity/{day}", day_activity),
    Route("/activity/still/{day}/{peak:int}.jpg", event_still),
]


# --- the server's search, across cameras ----------------------------------------------------

def _visible(request: Request) -> dict:
    """The cameras' states the asker may watch (a share link: its own camera)."""
    who = guard.principal(request)
    states = {name: a.state.cctv for name, a in request.app.state.cameras.items()}
    share = sharing.share_of(request)
    if share is not None:
        return {n: s for n, s in states.items() if n == share.camera}
    return {n: s for n, s in states.items() if allows(who, WATCH, n) is None}


def _query(request: Request) -> tuple[dict, float, float, float, int]:
    states = _visible(request)
    q = request.query_params
    camera = q.get("camera") or None
    if camera is not None:
        if camera not in states:
            raise NotFound(f"no camera named {camera!r} that you may watch")
        states = {camera: states[camera]}
    tz = request.app.state.access.tz if not camera else states[camera].settings.tz
    end = search.parse_time(q["to"], tz, "to") if q.get("to") else time.time()
    start = search.parse_time(q["from"], tz, "from") if q.get("from") else end - DEFAULT_SPAN
    min_score = _score(q.get("min_score"))
    page = _number(q.get("page", "1"), "page", 1, 10_000)
    return states, start, end, min_score, page


def _score(text: str | None) -> float:
    try:
        value = float(text or "0")
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise InvalidInput("min_score must be a percentage from 0 to 100")
    return value


def _found(request: Request) -> tuple[list[Event], dict, int]:
    states, start, end, min_score, page = _query(request)
    found = search.search({n: s.activity for n, s in states.items()}, start, end, min_score)
    return _share_cut(request, found), states, page


async def events_api(request: Request) -> JSONResponse:
    """`/api/events?camera=&from=&to=&min_score=`: every matching event, newest first."""
    found, states, _ = await run_in_threadpool(_found, request)
    return JSONResponse([_event_json(e, states[e.camera].settings.tz, f"/cam/{e.camera}/")
                         for e in found], headers={"Cache-Control": "no-cache"})


async def events_page(request: Request) -> HTMLResponse:
    """`/events?...&page=N`: the matching events' stills in a grid, newest first, paged."""
    found, states, page = await run_in_threadpool(_found, request)
    shown = list(search.pages(found, page, PAGE))
    q = dict(request.query_params)
    more = f"?{urlencode(q | {'page': page + 1})}" if page * PAGE < len(found) else None
    less = f"?{urlencode(q | {'page': page - 1})}" if page > 1 else None
    items = [_event_json(e, states[e.camera].settings.tz, f"/cam/{e.camera}/") for e in shown]
    page_html = request.app.state.templates.get_template("events.html").render(
        events=items, total=len(found), page=page, more=more, less=less, q=q,
        cameras=sorted(states), me=guard.me(request), notices=request.app.state.notices)
    return HTMLResponse(page_html)


SERVER_ROUTES = [Route("/events", events_page), Route("/api/events", events_api)]
