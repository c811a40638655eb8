"""The SQLite index of a root's segments and videos, rebuilt from disk (the filesystem is the truth)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from .. import layout
from ..errors import CorruptSegment
from ..media import mpegts
from . import arrival, timeline, videoindex
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
    last_arrival REAL
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
    mode TEXT
);
"""
# Columns added to the compaction table after its first release, for catalogs made before them.
ADDED_COLUMNS = {"phases": "TEXT", "mode": "TEXT"}
# What the compactor process writes and the web process reads: the one shared state is here.
COMPACTION_FIELDS = (
    "state", "percent", "eligible_at", "reason", "failures", "retry_at", "updated",
    "input_size", "output_size", "ratio", "realtime", "seconds", "ssim", "phases", "mode",
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


@dataclass
class SyncResult:
    changed: bool = False
    pending: list[str] = field(default_factory=list)


class Catalog:
    """One database file; a connection per thread, so the web loop and the watcher can share it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().executescript(SCHEMA)
        self._add_columns()

    def _add_columns(self) -> None:
        """Bring an older catalog's compaction table up to date (a column that is missing)."""
        db = self._db()
        have = {row[1] for row in db.execute("PRAGMA table_info(compaction)")}
        for name, kind in ADDED_COLUMNS.items():
            if name not in have:
                try:
                    db.execute(f"ALTER TABLE compaction ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as err:  # the other process added it first
                    if "duplicate column" not in str(err):
                        raise

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # --- reading -------------------------------------------------------------------------

    def days(self) -> list[DaySummary]:
        rows = self._db().execute(f"SELECT {_DAY_COLUMNS} FROM day ORDER BY day DESC")
        return [_summary(r) for r in rows]

    def day(self, day: str) -> DaySummary | None:
        row = self._db().execute(f"SELECT {_DAY_COLUMNS} FROM day WHERE day = ?", (day,)).fetchone()
        return _summary(row) if row else None

    def latest_day(self) -> str | None:
        row = self._db().execute(
            "SELECT max(day) FROM day WHERE segments > 0 OR videos > 0"
        ).fetchone()
        return row[0]

    def versions(self, first_day: str = "") -> list[tuple[str, int]]:
        """(day, version) of every day from `first_day` on: a cache key for playlists."""
        rows = self._db().execute(
            "SELECT day, version FROM day WHERE day >= ? AND (segments > 0 OR videos > 0) ORDER BY day",
            (first_day,),
        )
        return rows.fetchall()

    def segments(self, day: str) -> list[Segment]:
        rows = self._db().execute(
            "SELECT day, name, size, mtime_ns, first_pts, duration, name_time, error "
            "FROM segment WHERE day = ? ORDER BY sort_key",
            (day,),
        )
        return [_segment(r) for r in rows]

    def videos(self, day: str) -> dict[str, int]:
        rows = self._db().execute("SELECT name, size FROM video WHERE day = ? ORDER BY name", (day,))
        return dict(rows.fetchall())

    # --- keeping current with the disk --------------------------------------------------

    def sync_day(
        self, root: Path, day: str, now: float, stable_seconds: float, tz: ZoneInfo
    ) -> SyncResult:
        """Make the catalog's view of one day folder equal the disk's."""
        day_dir = root / day
        on_disk, videos = layout.list_day(day_dir)
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
            if not arrival.is_complete(day_dir / name, st, now, stable_seconds):
                result.pending.append(name)
                continue
            fresh.append(_probe(day, name, day_dir / name, st, tz))
        gone = [n for n in known if n not in on_disk or n in result.pending]
        result.changed = self._apply(day, day_dir, fresh, gone, videos, now)
        return result

    def _apply(self, day, day_dir, fresh, gone, videos, now) -> bool:
        with self._tx() as db:
            db.executemany("DELETE FROM segment WHERE day = ? AND name = ?", [(day, n) for n in gone])
            db.executemany(
                "INSERT OR REPLACE INTO segment VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(s) for s in fresh],
            )
            videos_changed = _sync_videos(db, day, videos)
            row = db.execute("SELECT version FROM day WHERE day = ?", (day,)).fetchone()
            changed = bool(fresh or gone or videos_changed or row is None)
            if changed:
                self._summarise(db, day, day_dir, row, now if fresh else None)
            else:
                db.execute(
                    "UPDATE day SET dir_mtime_ns = ? WHERE day = ?", (_dir_mtime(day_dir), day)
                )
        return changed

    def _summarise(self, db, day: str, day_dir: Path, row, arrival: float | None) -> None:
        """Recompute a day's index row from its segments and videos, and bump its version."""
        placed = list(timeline.place(self.segments_in(db, day)))
        errors = db.execute(
            "SELECT count(*) FROM segment WHERE day = ? AND error IS NOT NULL", (day,)
        ).fetchone()[0]
        videos = db.execute("SELECT name, size FROM video WHERE day = ?", (day,)).fetchall()
        spans = [(p.start, p.end) for p in placed] + _video_spans(day_dir, videos)
        gaps = [[g.start, g.end] for g in timeline.gaps(spans)]
        db.execute(
            "INSERT INTO day (day, version, dir_mtime_ns, segments, errors, duration, size, first,"
            " last, gaps, videos, video_size, last_arrival) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (day) DO UPDATE SET version = excluded.version,"
            " dir_mtime_ns = excluded.dir_mtime_ns, segments = excluded.segments,"
            " errors = excluded.errors, duration = excluded.duration, size = excluded.size,"
            " first = excluded.first, last = excluded.last, gaps = excluded.gaps,"
            " videos = excluded.videos, video_size = excluded.video_size,"
            " last_arrival = coalesce(excluded.last_arrival, day.last_arrival)",
            (
                day, (row[0] + 1) if row else 1, _dir_mtime(day_dir), len(placed), errors,
                sum(end - start for start, end in spans), sum(p.segment.size for p in placed),
                min(s for s, _ in spans) if spans else None,
                max(e for _, e in spans) if spans else None,
                json.dumps(gaps), len(videos), sum(size for _, size in videos), arrival,
            ),
        )

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
        """Sync every day whose folder changed (or all, with `full`); drop days gone from disk."""
        on_disk = layout.list_days(root)
        known = dict(self._db().execute("SELECT day, dir_mtime_ns FROM day").fetchall())
        for day in set(known) - set(on_disk):
            self.forget_day(day)
        recent = set(on_disk[-RECENT_DAYS:])
        results = {}
        for day in on_disk:
            if full or day in recent or known.get(day) != _dir_mtime(root / day):
                results[day] = self.sync_day(root, day, now, stable_seconds, tz)
        return results


def _probe(day: str, name: str, path: Path, st: os.stat_result, tz: ZoneInfo) -> Segment:
    name_time = timeline.time_from_name(name, day, tz)
    try:
        found = mpegts.probe(path)
        first_pts, duration, error = found.first_pts, found.duration, None
    except (CorruptSegment, OSError, IndexError) as err:
        log.warning("segment %s/%s is unreadable: %s", day, name, err)
        first_pts, duration, error = None, 0.0, str(err) or type(err).__name__
    return Segment(day, name, st.st_size, st.st_mtime_ns, first_pts, duration, name_time, error)


def _sync_videos(db: sqlite3.Connection, day: str, videos: dict[str, os.stat_result]) -> bool:
    known = dict(
        ((n, (s, m)) for n, s, m in db.execute(
            "SELECT name, size, mtime_ns FROM video WHERE day = ?", (day,)
        ))
    )
    now = {n: (st.st_size, st.st_mtime_ns) for n, st in videos.items()}
    if known == now:
        return False
    db.execute("DELETE FROM video WHERE day = ?", (day,))
    db.executemany(
        "INSERT INTO video VALUES (?, ?, ?, ?)", [(day, n, s, m) for n, (s, m) in now.items()]
    )
    return True


def _video_spans(day_dir: Path, videos: list[tuple[str, int]]) -> list[tuple[float, float]]:
    """The wall-clock spans of footage in a day's compacted videos, from their indexes."""
    spans = []
    for name, size in videos:
        try:
            index = videoindex.read(day_dir, name, size)
        except (OSError, ValueError) as err:  # an unreadable video must not hide the day
            log.warning("%s/%s: no index for the day's summary: %s", day_dir.name, name, err)
            continue
        spans += [(f.wall, f.wall + f.duration) for f in index.fragments]
    return spans


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
