"""The activity index: a sidecar SQLite file beside a camera's catalog, one row per measured file.

The catalog can be rebuilt from the recordings at any time; the activity of a compacted day
cannot (its segments are gone), so it lives in a file of its own that no rebuild of the
catalog touches. A row is keyed by day and the file it was measured from (a segment, or a
video when a compacted day was measured again): compaction deletes segments, never rows. A
file that would not decode has a row too, with its error and no seconds, so that it is
skipped, not tried again and again. Rows of a day whose folder is gone (retention) are pruned.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import measure

log = logging.getLogger(__name__)

NAME = "activity.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS measured (
    day TEXT NOT NULL,
    source TEXT NOT NULL,
    first INTEGER NOT NULL,
    levels BLOB NOT NULL,
    error TEXT,
    PRIMARY KEY (day, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS still (
    day TEXT NOT NULL,
    peak INTEGER NOT NULL,
    jpeg BLOB NOT NULL,
    PRIMARY KEY (day, peak)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Row:
    day: str
    source: str
    first: int  # Unix second of levels[0]
    levels: bytes
    error: str | None = None


def path_for(catalog_path: Path) -> Path:
    """The index's file: beside the catalog, in the camera's state folder."""
    return Path(catalog_path).parent / NAME


class Index:
    """One camera's activity index; a connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._uri = f"file:{quote(str(self.path))}"
        self.problem: str | None = None  # why the index is kept in memory, if it is
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._schema()
        except (sqlite3.Error, OSError) as err:
            # A state folder that cannot be written (a full disk, a read-only mount) must not
            # keep the server from serving footage: activity is kept in memory until a restart.
            log.warning("activity index %s cannot be opened (%s): kept in memory", self.path, err)
            self.problem = f"activity index kept in memory ({err})"
            self._uri = f"file:cctv-activity-{id(self):x}?mode=memory&cache=shared"
            self._keeper = self._db()  # a shared memory database lives while one connection does
            self._schema()

    def _schema(self) -> None:
        db = self._db()
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._uri, uri=True, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def close(self) -> None:
        with suppress(AttributeError, sqlite3.Error):
            self._local.db.close()
            del self._local.db

    # --- writing ---------------------------------------------------------------------------

    def put(self, rows: Iterable[Row], replace_day: str | None = None) -> None:
        """Store rows; with `replace_day`, every other row of that day goes in the same
        transaction (a day measured again from its video)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            if replace_day is not None:
                db.execute("DELETE FROM measured WHERE day = ?", (replace_day,))
                db.execute("DELETE FROM still WHERE day = ?", (replace_day,))
            db.executemany("INSERT OR REPLACE INTO measured VALUES (?, ?, ?, ?, ?)",
                           [(r.day, r.source, r.first, r.levels, r.error) for r in rows])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def put_still(self, day: str, peak: int, jpeg: bytes) -> None:
        self._db().execute("INSERT OR REPLACE INTO still VALUES (?, ?, ?)", (day, peak, jpeg))

    def forget(self, days: Iterable[str]) -> None:
        db = self._db()
        for day in days:
            db.execute("DELETE FROM measured WHERE day = ?", (day,))
            db.execute("DELETE FROM still WHERE day = ?", (day,))

    # --- reading ---------------------------------------------------------------------------

    def sources(self, day: str) -> set[str]:
        """The files of a day already measured (or skipped)."""
        rows = self._db().execute("SELECT source FROM measured WHERE day = ?", (day,))
        return {r[0] for r in rows}

    def days(self, first: str = "", last: str = "9999-99-99") -> list[str]:
        rows = self._db().execute("SELECT DISTINCT day FROM measured WHERE day >= ? AND day <= ?"
                                  " ORDER BY day", (first, last))
        return [r[0] for r in rows]

    def seconds(self, day: str) -> dict[int, float]:
        """Each measured second of a day: percent of the picture changed. Where two files
        cover a second (a segment resent), the larger activity."""
        found: dict[int, float] = {}
        rows = self._db().execute(
            "SELECT first, levels FROM measured WHERE day = ? AND error IS NULL", (day,))
        for first, levels in rows:
            for second, value in measure.from_levels(first, levels):
                if value > found.get(second, -1.0):
                    found[second] = value
        return found

    def version(self, day: str) -> tuple[int, int]:
        """Changes when a day's rows change: for caching what is computed from them."""
        row = self._db().execute(
            "SELECT count(*), coalesce(sum(first + length(levels)), 0) FROM measured"
            " WHERE day = ?", (day,)).fetchone()
        return row[0], row[1]

    def still(self, day: str, peak: int) -> bytes | None:
        row = self._db().execute("SELECT jpeg FROM still WHERE day = ? AND peak = ?",
                                 (day, peak)).fetchone()
        return row[0] if row else None

    def skipped(self, day: str) -> list[tuple[str, str]]:
        """(file, why) of a day's files that would not decode."""
        rows = self._db().execute("SELECT source, error FROM measured WHERE day = ?"
                                  " AND error IS NOT NULL ORDER BY source", (day,))
        return rows.fetchall()
