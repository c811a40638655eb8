"""The SQLite index of a root's segments and videos, rebuilt from disk (the filesystem is the truth)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from .. import layout
from ..errors import CorruptSegment
from ..media import mpegts
from ..storage import home as homes
from . import arrival, catalogdb, timeline, videoindex
from .day import DayFiles, of_day, spans
from .timeline import Segment

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment (
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    sort_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    first_pts INTEGER,
    duration REAL NOT NULL DEFAULT 0,
    name_time REAL,
    error TEXT,
    PRIMARY KEY (day, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS segment_order ON segment (day, sort_key);
CREATE TABLE IF NOT EXISTS video (
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    home TEXT,
    PRIMARY KEY (day, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day (
    day TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    dir_mtime_ns INTEGER NOT NULL DEFAULT 0,
    segments INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    duration REAL NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    first REAL,
    last REAL,
    gaps TEXT NOT NULL DEFAULT '[]',
    videos INTEGER NOT NULL DEFAULT 0,
    video_size INTEGER NOT NULL DEFAULT 0,
    last_arrival REAL,
    archived_size INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS compaction (
    day TEXT PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'waiting',
    percent REAL,
    eligible_at REAL,
    reason TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at REAL,
    updated REAL,
    input_size INTEGER,
    output_size INTEGER,
    ratio REAL,
    realtime REAL,
    seconds REAL,
    ssim REAL,
    phases TEXT,
    mode TEXT,
    workers INTEGER
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""
# Columns added to the compaction table after its first release, for catalogs made before them.
# Columns newer than the first catalogs, added to an older file when it is opened.
ADDED_COLUMNS = {"compaction": {"phases": "TEXT", "mode": "TEXT", "workers": "INTEGER"},
                 # a video's home: NULL on the disk, else the store it moved to (storage/home.py)
                 "video": {"home": "TEXT"},
                 "day": {"archived_size": "INTEGER NOT NULL DEFAULT 0"}}
# What the compactor process writes and the web process reads: the one shared state is here.
COMPACTION_FIELDS = (
    "state", "percent", "eligible_at", "reason", "failures", "retry_at", "updated",
    "input_size", "output_size", "ratio", "realtime", "seconds", "ssim", "phases", "mode",
    "workers",  # the workers that encoded the day's chunks (tasks/), when a broker is set
)
RECENT_DAYS = 2  # always re-read fully: late uploads land here, and may overwrite in place


@dataclass(frozen=True)
class DaySummary:
    """One row of the index page."""

    day: str
    version: int
    segments: int
    errors: int
    duration: float
    size: int
    first: float | None
    last: float | None
    gaps: list[tuple[float, float]]
    videos: int
    video_size: int
    last_arrival: float | None


@dataclass(frozen=True)
class DaySize:
    """What the disk figures need of a day: no gaps to parse, so a year of days reads fast."""

    day: str
    size: int
    videos: int
    video_size: int


@dataclass
class SyncResult:
    changed: bool = False
    pending: list[str] = field(default_factory=list)


class Catalog:
    """One database; a connection per thread, so the web loop and the watcher can share it.

    The database is the file at `path`, or, while the file cannot be written (a full disk), a
    copy in memory (`problem` says so). `check()` moves every thread to a new database when the
    file was deleted, replaced or damaged, or is writable again; `generation` counts the moves.

    A file that cannot be written at open is always kept in memory, or nothing could start. A
    write refused later moves it there only with `memory_when_full`: the server's choice, which
    must go on listing new footage; the compactor's writes are records for others to read, and
    must reach the file once the space it took is freed, so they fail (and are logged) instead.
    """

    def __init__(self, path: Path, memory_when_full: bool = False):
        self.path = Path(path)
        self.memory_when_full = memory_when_full
        self._local = threading.local()
        self._lock = threading.Lock()
        self.generation = 0
        self.problem: str | None = None  # why the catalog is not kept in its file, for /healthz
        self._suspect = False  # a query met a damaged database: check() rebuilds it
        self._memories = 0
        self._store = self._open()

    def _open(self) -> catalogdb.Store:
        try:
            found = catalogdb.open_file(self.path, SCHEMA, verify=self._suspect, added=ADDED_COLUMNS)
        except (sqlite3.Error, OSError) as err:
            return self._in_memory(err)
        self.problem = None
        return found

    def _in_memory(self, err: BaseException) -> catalogdb.Store:
        why = catalogdb.reason(self.path, err)
        if self.problem is None:  # said once, not at every failed write or retry
            log.warning("catalog %s cannot be written (%s): kept in memory, and written again "
                        "once it can be", self.path, why)
        self.problem = f"catalog read-only ({why}): kept in memory"
        self._memories += 1
        return catalogdb.open_memory(self.path, SCHEMA, f"{id(self):x}-{self._memories}")

    def check(self) -> bool:
        """Move every thread to a new database when the file was deleted, replaced or damaged
        (a fresh one, rebuilt by the next scan), or when a file kept in memory can be written
        again. True when it moved: the caller rescans the root, as at a start."""
        current = self._store
        if current.memory:
            if not catalogdb.has_room(self.path):
                return False
            try:
                found = catalogdb.open_file(self.path, SCHEMA, added=ADDED_COLUMNS)
            except (sqlite3.Error, OSError):
                return False  # still full: quietly, the next check tries again
            log.warning("catalog %s can be written again: back to the file", self.path)
            self.problem = None
            return self._switch(current, found)
        why = "damaged" if self._suspect else catalogdb.trouble(self.path, current)
        if why is None:
            return False
        log.warning("catalog %s was %s while in use: starting a new one, which the next scan "
                    "fills from the recordings", self.path, why)
        # Opened again under SQLite's own check: pages still in the WAL can make a file whose
        # header was overwritten open cleanly, the rest of it garbage.
        self._suspect = self._suspect or why == "damaged"
        new = self._open()
        self._suspect = False
        return self._switch(current, new)

    def suspect(self, err: BaseException) -> None:
        """A query failed with `err`: if it says the database is damaged, the next check rebuilds it."""
        if catalogdb.damaged(err):
            self._suspect = True

    def _switch(self, old: catalogdb.Store, new: catalogdb.Store) -> bool:
        with self._lock:
            if self._store is not old:  # another thread moved first
                new.close()
                return True
            self._store = new
            self.generation += 1
        old.close()
        return True

    def _db(self) -> sqlite3.Connection:
        local, current = self._local, self._store
        if getattr(local, "store", None) is not current:
            with suppress(AttributeError, sqlite3.Error):
                local.db.close()
            local.db, local.store = current.connect(), current
        return local.db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        current = self._store
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # a full disk may have rolled it back already
                    db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as err:
            self._after_write_error(current, err)
            raise

    def _after_write_error(self, current: catalogdb.Store, err: sqlite3.Error) -> None:
        """A write the file refused (the disk filled up): keep going in memory; the caller's
        retry lands there. A file deleted or replaced is check()'s to rebuild instead."""
        if current.memory or not self.memory_when_full or not catalogdb.unwritable(err):
            return
        if catalogdb.trouble(self.path, current) is None:
            self._switch(current, self._in_memory(err))

    def note(self, key: str) -> str | None:
        """A value the server keeps between runs (see `set_note`)."""
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_note(self, key: str, value: str, wait: float = 30.0) -> None:
        """Keep a small value between runs (unlike the rest, it cannot be re-read from disk);
        sqlite3.OperationalError when another writer holds the catalog longer than `wait` s."""
        db = self._db()
        db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            with self._tx() as db:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        finally:
            with suppress(sqlite3.Error):
                db.execute("PRAGMA busy_timeout = 30000")

    # --- reading -------------------------------------------------------------------------

    def days(self) -> list[DaySummary]:
        rows = self._db().execute(f"SELECT {_DAY_COLUMNS} FROM day ORDER BY day DESC")
        return [_summary(r) for r in rows]

    def sizes(self, recent: int | None = None) -> list[DaySize]:
        """Days' bytes, newest first. With `recent`, only the newest `recent` days with footage
        and the newest `recent` compacted: all a recording rate looks at, so that an overview of
        many cameras with years of days reads a few rows each."""
        where, args = "", ()
        if recent is not None:
            where = (" WHERE day IN (SELECT day FROM day WHERE size + video_size > 0"
                     " ORDER BY day DESC LIMIT ?) OR day IN (SELECT day FROM day WHERE videos > 0"
                     " ORDER BY day DESC LIMIT ?)")
            args = (recent, recent)
        rows = self._db().execute(
            f"SELECT day, size, videos, video_size FROM day{where} ORDER BY day DESC", args)
        return [DaySize(*r) for r in rows]

    def bytes_on_disk(self) -> tuple[int, int]:
        """Bytes of segments and of videos on the disk (not in the store), every day together."""
        row = self._db().execute(
            "SELECT coalesce(sum(size), 0), coalesce(sum(video_size - archived_size), 0) FROM day"
        ).fetchone()
        return row[0], row[1]

    def bytes_archived(self) -> int:
        """Bytes of videos in the store (a local copy a move has yet to delete counts here)."""
        return self._db().execute("SELECT coalesce(sum(archived_size), 0) FROM day").fetchone()[0]

    def homes(self) -> dict[str, str]:
        """The days with a video in the store, and which store."""
        rows = self._db().execute("SELECT DISTINCT day, home FROM video WHERE home IS NOT NULL")
        return dict(rows.fetchall())

    def day(self, day: str) -> DaySummary | None:
        row = self._db().execute(f"SELECT {_DAY_COLUMNS} FROM day WHERE day = ?", (day,)).fetchone()
        return _summary(row) if row else None

    def latest_day(self, last_day: str = "9999-12-31") -> str | None:
        """The newest day with footage, up to `last_day` (a later one is a wrong clock's)."""
        row = self._db().execute(
            "SELECT max(day) FROM day WHERE day <= ? AND (segments > 0 OR videos > 0)",
            (last_day,),
        ).fetchone()
        return row[0]

    def usage(self) -> tuple[int, Counter]:
        """Bytes of recordings on disk, and the days counted by where their compaction stands:
        one query each, so an overview of many cameras with years of days stays fast."""
        used = sum(self.bytes_on_disk())
        rows = self._db().execute(
            "SELECT CASE WHEN d.segments + d.errors = 0 THEN 'compacted'"
            " WHEN c.state IN ('failed', 'compacting') THEN c.state ELSE 'waiting' END AS s,"
            " count(*) FROM day d LEFT JOIN compaction c ON c.day = d.day GROUP BY s")
        return used, Counter(dict(rows.fetchall()))

    def totals(self) -> dict[str, tuple[int, int]]:
        """(files, bytes) of every segment (readable or not) and every video catalogued."""
        db = self._db()
        return {kind: tuple(db.execute(f"SELECT count(*), coalesce(sum(size), 0) FROM {kind}")
                            .fetchone()) for kind in ("segment", "video")}

    def newest_arrival(self) -> float | None:
        """When the newest segment arrived (its ctime), whichever day it is in."""
        return self._db().execute("SELECT max(last_arrival) FROM day").fetchone()[0]

    def versions(self, first_day: str = "", last_day: str = "9999-12-31") -> list[tuple[str, int]]:
        """(day, version) of every day from `first_day` to `last_day`: a cache key for playlists."""
        rows = self._db().execute(
            "SELECT day, version FROM day WHERE day >= ? AND day <= ?"
            " AND (segments > 0 OR videos > 0) ORDER BY day",
            (first_day, last_day),
        )
        return rows.fetchall()

    def versions_of(self, days: list[str]) -> list[tuple[str, int | None]]:
        """(day, version) of each of these days, None for a day the catalog does not know."""
        marks = ",".join("?" * len(days))
        found = dict(self._db().execute(f"SELECT day, version FROM day WHERE day IN ({marks})", days))
        return [(d, found.get(d)) for d in days]

    def segments(self, day: str) -> list[Segment]:
        """A day's segments in natural name order (footage/day.py puts them in clock order)."""
        return self.segments_in(self._db(), day)

    def videos(self, day: str) -> dict[str, int]:
        rows = self._db().execute("SELECT name, size FROM video WHERE day = ? ORDER BY name", (day,))
        return dict(rows.fetchall())

    # --- keeping current with the disk --------------------------------------------------

    def sync_day(
        self, root: Path, day: str, now: float, stable_seconds: float, tz: ZoneInfo,
        stored: Mapping[str, tuple[int, int]] | None = None,
    ) -> SyncResult:
        """Make the catalog's view of one day folder equal the disk's; a day outside the days
        the server looks at (an inotify event can name one) is forgotten instead. `stored`:
        segments given their name whole (an upload), by (size, mtime_ns): complete at once while
        still that file, where any other must wait `stable_seconds`."""
        date = layout.day_date(day)
        if date is None or layout.out_of_range(date, _today(now, tz)):
            if self.day(day) is not None:
                self.forget_day(day)
            return SyncResult()
        day_dir = root / day
        on_disk, videos = layout.list_day(day_dir)
        videos = {**_archived(day_dir), **videos}  # a video in the store, unless still here
        result = SyncResult()
        known = dict(
            ((name, (size, mtime)) for name, size, mtime in self._db().execute(
                "SELECT name, size, mtime_ns FROM segment WHERE day = ?", (day,)
            ))
        )
        fresh: list[Segment] = []
        for name, st in on_disk.items():
            if known.get(name) == (st.st_size, st.st_mtime_ns):
                continue
            whole = (stored or {}).get(name) == (st.st_size, st.st_mtime_ns)
            if not whole and not arrival.is_complete(day_dir / name, st, now, stable_seconds):
                result.pending.append(name)
                continue
            fresh.append(_probe(day, name, day_dir / name, st, tz))
        gone = [n for n in known if n not in on_disk or n in result.pending]
        arrived = arrival.last_arrival(on_disk)
        result.changed = self._apply(day, day_dir, fresh, gone, videos, arrived)
        return result

    def _apply(self, day, day_dir, fresh, gone, videos, arrived: float | None) -> bool:
        with self._tx() as db:
            db.executemany("DELETE FROM segment WHERE day = ? AND name = ?", [(day, n) for n in gone])
            db.executemany(
                "INSERT OR REPLACE INTO segment VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(s) for s in fresh],
            )
            videos_changed = _sync_videos(db, day, videos, _homes(day_dir))
            row = db.execute("SELECT version FROM day WHERE day = ?", (day,)).fetchone()
            changed = bool(fresh or gone or videos_changed or row is None)
            if changed:
                self._summarise(db, day, day_dir, row, arrived)
            else:
                db.execute("UPDATE day SET dir_mtime_ns = ?, last_arrival = ? WHERE day = ?",
                           (_dir_mtime(day_dir), arrived, day))
        return changed

    def _summarise(self, db, day: str, day_dir: Path, row, arrived: float | None) -> None:
        """Recompute a day's index row from the footage model, and bump its version."""
        segments = self.segments_in(db, day)
        videos = db.execute("SELECT name, size FROM video WHERE day = ?", (day,)).fetchall()
        archived = db.execute("SELECT coalesce(sum(size), 0) FROM video WHERE day = ? AND home"
                              " IS NOT NULL", (day,)).fetchone()[0]
        pieces = of_day(DayFiles(day, segments, _indexes(day_dir, videos)))
        found = spans(pieces)
        placed = [p.segment for p in pieces if p.segment is not None]
        gaps = [[g.start, g.end] for g in timeline.gaps(found)]
        db.execute(
            "INSERT INTO day (day, version, dir_mtime_ns, segments, errors, duration, size, first,"
            " last, gaps, videos, video_size, last_arrival) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (day) DO UPDATE SET version = excluded.version,"
            " dir_mtime_ns = excluded.dir_mtime_ns, segments = excluded.segments,"
            " errors = excluded.errors, duration = excluded.duration, size = excluded.size,"
            " first = excluded.first, last = excluded.last, gaps = excluded.gaps,"
            " videos = excluded.videos, video_size = excluded.video_size,"
            " last_arrival = excluded.last_arrival",
            (
                day, _next_version(row), _dir_mtime(day_dir), len(placed),
                sum(1 for s in segments if s.error is not None),
                sum(end - start for start, end in found), sum(s.size for s in placed),
                min(s for s, _ in found) if found else None,
                max(e for _, e in found) if found else None,
                json.dumps(gaps), len(videos), sum(size for _, size in videos), arrived,
            ),
        )
        db.execute("UPDATE day SET archived_size = ? WHERE day = ?", (archived, day))

    @staticmethod
    def segments_in(db: sqlite3.Connection, day: str) -> list[Segment]:
        rows = db.execute(
            "SELECT day, name, size, mtime_ns, first_pts, duration, name_time, error "
            "FROM segment WHERE day = ? ORDER BY sort_key",
            (day,),
        )
        return [_segment(r) for r in rows]

    def compaction(self, day: str) -> dict | None:
        """The compaction row of a day as a dict, or None."""
        cols = ", ".join(COMPACTION_FIELDS)
        row = self._db().execute(f"SELECT {cols} FROM compaction WHERE day = ?", (day,)).fetchone()
        return None if row is None else dict(zip(COMPACTION_FIELDS, row))

    def compactions(self) -> dict[str, dict]:
        """Every day's compaction row, by day."""
        cols = ", ".join(COMPACTION_FIELDS)
        rows = self._db().execute(f"SELECT day, {cols} FROM compaction").fetchall()
        return {r[0]: dict(zip(COMPACTION_FIELDS, r[1:])) for r in rows}

    def failing(self, failures: int) -> dict[str, dict]:
        """The compaction rows of the days that failed at least `failures` times in a row, by
        day: what /healthz asks at every request, so only those rows are read."""
        cols = ", ".join(COMPACTION_FIELDS)
        rows = self._db().execute(f"SELECT day, {cols} FROM compaction WHERE state = 'failed'"
                                  " AND failures >= ?", (failures,)).fetchall()
        return {r[0]: dict(zip(COMPACTION_FIELDS, r[1:])) for r in rows}

    def set_compaction(self, day: str, **fields) -> None:
        """Insert or update some fields of a day's compaction row (state is required on insert)."""
        unknown = set(fields) - set(COMPACTION_FIELDS)
        assert not unknown, unknown
        names = list(fields)
        with self._tx() as db:
            db.execute(
                f"INSERT INTO compaction (day, {', '.join(names)}) VALUES (?{', ?' * len(names)})"
                f" ON CONFLICT (day) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in names),
                (day, *fields.values()),
            )

    def forget_day(self, day: str) -> None:
        with self._tx() as db:
            for table in ("segment", "video", "day"):
                db.execute(f"DELETE FROM {table} WHERE day = ?", (day,))

    def rescan(
        self, root: Path, now: float, stable_seconds: float, tz: ZoneInfo, full: bool = False
    ) -> dict[str, SyncResult]:
        """Sync every day whose folder changed (or all, with `full`); drop days gone from disk.
        A day that cannot be read is logged and left as it was: the other days go on."""
        on_disk = layout.list_days(root, _today(now, tz))
        known = dict(self._db().execute("SELECT day, dir_mtime_ns FROM day").fetchall())
        for day in set(known) - set(on_disk):
            self.forget_day(day)
        recent = set(on_disk[-RECENT_DAYS:])
        results = {}
        for day in on_disk:
            if full or day in recent or known.get(day) != _dir_mtime(root / day):
                try:
                    results[day] = self.sync_day(root, day, now, stable_seconds, tz)
                except (OSError, ValueError) as err:
                    log.error("cannot catalogue %s (%s); the other days go on", day, err)
        return results


def _today(now: float, tz: ZoneInfo) -> dt.date:
    """The root's local date at `now`: what the range of days is counted from."""
    return dt.datetime.fromtimestamp(now, tz).date()


def _probe(day: str, name: str, path: Path, st: os.stat_result, tz: ZoneInfo) -> Segment:
    name_time = timeline.time_from_name(name, day, tz)
    try:
        found = mpegts.probe(path)
        first_pts, duration, error = found.first_pts, found.duration, None
    except (CorruptSegment, OSError, IndexError) as err:
        log.warning("segment %s/%s is unreadable: %s", day, name, err)
        first_pts, duration, error = None, 0.0, str(err) or type(err).__name__
    return Segment(day, name, st.st_size, st.st_mtime_ns, first_pts, duration, name_time, error)


def _sync_videos(db: sqlite3.Connection, day: str, videos: dict[str, os.stat_result],
                 homes: dict[str, str] | None = None) -> bool:
    known = dict(
        ((n, (s, m, h)) for n, s, m, h in db.execute(
            "SELECT name, size, mtime_ns, home FROM video WHERE day = ?", (day,)
        ))
    )
    now = {n: (st.st_size, st.st_mtime_ns, (homes or {}).get(n)) for n, st in videos.items()}
    if known == now:
        return False
    db.execute("DELETE FROM video WHERE day = ?", (day,))
    db.executemany(
        "INSERT INTO video (day, name, size, mtime_ns, home) VALUES (?, ?, ?, ?, ?)",
        [(day, n, s, m, h) for n, (s, m, h) in now.items()]
    )
    return True


@dataclass(frozen=True)
class _Stat:
    """A video in the store, as a stat of it would read (storage/home.py)."""

    st_size: int
    st_mtime_ns: int


def _archived(day_dir: Path) -> dict[str, _Stat]:
    return {n: _Stat(e.size, e.moved_ns) for n, e in homes.archived(day_dir).items()}


def _homes(day_dir: Path) -> dict[str, str]:
    """The store each video of the day lives in, whether or not a local copy is left."""
    found = homes.load(day_dir)
    return {} if found is None else {n: found.store for n in found.videos}


def _indexes(day_dir: Path, videos: list[tuple[str, int]]) -> list[videoindex.VideoIndex]:
    """The indexes of a day's compacted videos; an unreadable one is left out, never hiding the day."""
    found = []
    for name, size in videos:
        try:
            found.append(videoindex.read(day_dir, name, size))
        except (OSError, ValueError) as err:
            log.warning("%s/%s: no index for the day's summary: %s", day_dir.name, name, err)
    return found


def _next_version(row: tuple | None) -> int:
    """The microsecond of the change, and at least one more than before: a catalog rebuilt, or
    kept in memory for a while, never gives a day a number that a cache has seen for other rows."""
    return max(row[0] + 1 if row else 1, time.time_ns() // 1000)


def _dir_mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def _row(s: Segment) -> tuple:
    return (
        s.day, s.name, layout.natural_key(s.name), s.size, s.mtime_ns,
        s.first_pts, s.duration, s.name_time, s.error,
    )


def _segment(r: tuple) -> Segment:
    return Segment(*r)


_DAY_COLUMNS = (
    "day, version, segments, errors, duration, size, first, last, gaps, videos, video_size,"
    " last_arrival"
)


def _summary(r: tuple) -> DaySummary:
    return DaySummary(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
        [tuple(g) for g in json.loads(r[8])], r[9], r[10], r[11],
    )
