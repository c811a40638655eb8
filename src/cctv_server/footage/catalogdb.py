"""Where the catalog's database lives: its file, or a copy in memory while the file cannot be written."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

HEADER = b"SQLite format 3\x00"  # the first bytes of every SQLite database file
# sqlite3 error names (Python 3.11+ gives them) that say the file cannot take a write now...
UNWRITABLE = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY")
# ... and those that say the file is no database, or a broken one.
DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
FULL_BELOW = 1 << 20  # bytes: with less free, "disk full" says more than SQLite's "disk I/O error"


class Damaged(Exception):
    """The catalog file is not a sound SQLite database."""


def unwritable(err: BaseException) -> bool:
    return (getattr(err, "sqlite_errorname", None) or "").startswith(UNWRITABLE)


def damaged(err: BaseException) -> bool:
    return isinstance(err, Damaged) or (getattr(err, "sqlite_errorname", None) or "").startswith(DAMAGED)


class Store:
    """One database that every thread's connection opens: the catalog file, or memory."""

    def __init__(self, uri: str, identity: tuple[int, int] | None,
                 keeper: sqlite3.Connection | None = None, head: int | None = None):
        self.uri = uri
        self.identity = identity  # (st_dev, st_ino) of the file; None in memory
        self._keeper = keeper  # holds a memory database alive while no thread has it open
        # A descriptor of the file, kept open for `trouble` to read its header through, never
        # closed: closing any descriptor of a file drops every POSIX lock this process holds on
        # it, SQLite's too (sqlite.org/howtocorrupt.html 2.2); another process could then
        # checkpoint the WAL under our readers. Seen: a server's catalog "malformed" while a
        # compactor wrote to it, every few runs, after `check` had opened and closed the file.
        self.head = head

    @property
    def memory(self) -> bool:
        return self.identity is None

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.uri, uri=True, timeout=30, isolation_level=None)
        if not self.memory:
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a power cut loses at most the last syncs
        return db

    def close(self) -> None:
        if self._keeper is not None:
            with suppress(sqlite3.Error):
                self._keeper.close()


def open_file(path: Path, schema: str, verify: bool = False,
              added: dict[str, dict[str, str]] | None = None) -> Store:
    """The catalog file with its schema, created if missing and proved writable by a write; a
    damaged one (or, with `verify`, one failing SQLite's own check) is moved aside first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open_file(path, schema, verify, added or {})
    except (Damaged, sqlite3.DatabaseError) as err:
        if not damaged(err):
            raise
        log.warning("catalog %s is damaged (%s): moved aside to %s.damaged; rebuilding it from "
                    "the recordings", path, err, path.name)
        move_aside(path)
    return _open_file(path, schema, False, added or {})


def _open_file(path: Path, schema: str, verify: bool, added: dict[str, dict[str, str]]) -> Store:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        if verify and db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
            raise Damaged("it fails SQLite's quick_check")
        db.executescript(schema)
        _add_columns(db, added)
        # A write proves what opening does not: a full disk refuses the WAL's first frame.
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('opened', ?)", (str(time.time()),))
        db.execute("COMMIT")
        head = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        st = os.fstat(head)
    finally:
        db.close()
    return Store(f"file:{quote(str(path))}?mode=rw", (st.st_dev, st.st_ino), head=head)


def move_aside(path: Path) -> None:
    """Keep the damaged file for a look (one, the latest), and drop its WAL and index, which
    belong to it alone: the journal files first, so that no one pairs them with a new file."""
    for suffix in ("-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    with suppress(FileNotFoundError):
        os.replace(path, f"{path}.damaged")


def open_memory(path: Path, schema: str, name: str) -> Store:
    """A database in memory with the schema, holding the file's rows when it can be read: then
    the rescan that follows re-reads only what changed, as after any restart."""
    uri = f"file:/cctv-catalog-{name}?vfs=memdb"  # memdb: shared by this process's threads
    keeper = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    keeper.executescript(schema)
    _copy_file(keeper, path)
    return Store(uri, None, keeper)


def _copy_file(db: sqlite3.Connection, path: Path) -> None:
    # mode=ro needs the WAL index, which a full disk may not let SQLite create; immutable=1
    # reads the main file alone (what a checkpoint left there: older, never inconsistent).
    for mode in ("mode=ro", "immutable=1"):
        try:
            db.execute("ATTACH ? AS disk", (f"file:{quote(str(path))}?{mode}&vfs=unix",))
        except sqlite3.Error:
            continue
        try:
            _copy_tables(db)
            return
        except sqlite3.Error as err:
            log.debug("cannot copy catalog %s (%s): %s", path, mode, err)
            if db.in_transaction:
                db.execute("ROLLBACK")
        finally:
            with suppress(sqlite3.Error):
                db.execute("DETACH disk")
    log.info("catalog %s cannot be read: the copy in memory starts empty", path)


def _copy_tables(db: sqlite3.Connection) -> None:
    db.execute("BEGIN")
    tables = [r[0] for r in db.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")]
    for table in tables:
        ours = [r[1] for r in db.execute(f"PRAGMA main.table_info({table})")]
        theirs = {r[1] for r in db.execute(f"PRAGMA disk.table_info({table})")}
        columns = ", ".join(c for c in ours if c in theirs)  # an older file lacks new columns
        if columns:
            db.execute(f"INSERT OR REPLACE INTO main.{table} ({columns}) "
                       f"SELECT {columns} FROM disk.{table}")
    db.execute("COMMIT")


def trouble(path: Path, store: Store) -> str | None:
    """Why the file at `path` is no longer the store's database (deleted, replaced by another
    file, or overwritten with something that is not SQLite); None when it still is."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "deleted"
    except OSError:
        return None  # cannot tell (a permission change): the queries will say
    if (st.st_dev, st.st_ino) != store.identity:
        return "replaced"
    if store.head is None:
        return None
    try:
        head = os.pread(store.head, len(HEADER), 0)  # never open() and close(): see Store.head
    except OSError:
        return None
    if head != HEADER:
        return "damaged"
    return None


def reason(path: Path, err: BaseException) -> str:
    """A few words on why the file cannot be written."""
    free = _free(path)
    if free is not None and free < FULL_BELOW:
        return "disk full"
    return str(err) or type(err).__name__


def has_room(path: Path) -> bool:
    """Room enough to go back to the file: not a few bytes that a probe takes and the next sync
    does not find, which would go back and forth between file and memory."""
    free = _free(path)
    return free is None or free >= FULL_BELOW


def _free(path: Path) -> int | None:
    existing = next((p for p in path.parents if p.exists()), Path(path.anchor))
    try:
        return shutil.disk_usage(existing).free
    except OSError:
        return None


def _add_columns(db: sqlite3.Connection, added: dict[str, dict[str, str]]) -> None:
    """Bring an older file's tables up to date: a column the schema gained since is added."""
    for table, columns in added.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name in have:
                continue
            try:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as err:  # another process added it first
                if "duplicate column" not in str(err):
                    raise
