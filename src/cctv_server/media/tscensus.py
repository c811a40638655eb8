"""Counting an MPEG-TS file's packets by kind: footage (the streams its program table names) or filler.

A segment's head and tail are all the catalog reads (mpegts.py), so a file of valid head and
tail with megabytes of null packets (PID 0x1FFF), packets of no stream, or bytes that are not
packets at all in between is a "segment" to it. This reads every packet, a few megabytes at a
time, and counts them with byte slices rather than a loop over packets: 64 MB in a fraction of
a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CorruptSegment
from . import mpegts

PACKET = mpegts.PACKET
NULL_PID = 0x1FFF
BLOCK = PACKET * 16384  # about 3 MB a read
_SYNC = bytes(int(b == mpegts.SYNC) for b in range(256))


@dataclass(frozen=True)
class Census:
    packets: int  # whole 188-byte packets from the first sync byte on
    footage: int  # packets of the program table and of the streams it names

    @property
    def filler(self) -> int:
        return self.packets - self.footage

    @property
    def footage_bytes(self) -> int:
        return self.footage * PACKET


def count(path: Path) -> Census:
    """Every packet of the file, counted; CorruptSegment when its head names no stream."""
    with open(path, "rb") as f:
        head = f.read(mpegts.HEAD_BYTES)
        start = mpegts._first_sync(head)
        pids = {0, *declared_pids(head, start)}
        f.seek(start)
        packets = footage = 0
        while block := f.read(BLOCK):
            whole = len(block) - len(block) % PACKET
            packets += whole // PACKET
            footage += _footage(block[:whole], pids)
            if whole < len(block):
                break
    return Census(packets, footage)


def declared_pids(head: bytes, start: int) -> set[int]:
    """The PMT PIDs the PAT names, and every elementary stream PID the PMTs name."""
    pmts: set[int] = set()
    streams: set[int] = set()
    for pid, unit_start, payload in mpegts._packets(head, start):
        if pid == 0 and unit_start and not pmts:
            pmts = mpegts._pat_programs(mpegts._section(payload))
        elif pid in pmts and unit_start:
            streams |= _pmt_streams(mpegts._section(payload))
    if not streams:
        raise CorruptSegment("no stream in the program table")
    return pmts | streams


def _pmt_streams(sec: bytes) -> set[int]:
    if len(sec) < 12:
        return set()
    length = ((sec[1] & 0x0F) << 8) | sec[2]
    info = ((sec[10] & 0x0F) << 8) | sec[11]
    i, end, found = 12 + info, min(len(sec), 3 + length - 4), set()
    while i + 5 <= end:
        found.add(((sec[i + 1] & 0x1F) << 8) | sec[i + 2])
        i += 5 + (((sec[i + 3] & 0x0F) << 8) | sec[i + 4])
    found.discard(NULL_PID)
    return found


def _footage(data: bytes, pids: set[int]) -> int:
    """Packets of `data` (whole packets, aligned) that carry a sync byte and one of `pids`: each
    column of packet bytes is a slice, each test a translate to 0/1 bytes, and the tests are
    and-ed as big integers."""
    if not data:
        return 0
    sync = _bits(data[0::PACKET], _SYNC)
    high, low = data[1::PACKET], data[2::PACKET]
    found = 0
    for pid in pids:
        hi = bytes(int(b & 0x1F == pid >> 8) for b in range(256))
        lo = bytes(int(b == pid & 0xFF) for b in range(256))
        found |= _bits(high, hi) & _bits(low, lo)
    return (sync & found).bit_count()


def _bits(column: bytes, table: bytes) -> int:
    """Each byte of the column as 0 or 1 by the table, read as one integer: a 1 bit per match."""
    return int.from_bytes(column.translate(table), "big")
