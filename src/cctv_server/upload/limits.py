"""Pure: what one upload may add to the disk: the free space kept, the camera's daily quota, a sane segment.

Each check returns the one-line reason of a refusal, or None. A refusal names its kind (disk,
quota, bitrate): the audit log and the alerts read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import format
from ..errors import NoSpace, Unprocessable

DISK, QUOTA, BITRATE = "disk", "quota", "bitrate"
QUOTA_FACTOR = 4  # the automatic quota: this many of the camera's largest recent day
RECENT_DAYS = 7  # the days before today that the automatic quota looks at
MIN_SPAN = 3600.0  # seconds of footage a day needs before its rate says anything
MIN_FOOTAGE = 0.5  # of a segment's packets at least this part footage, not filler


class Refusal(Exception):
    """A refusal of one of these kinds: its `reason` (the kind) and the bytes it refused."""

    reason = ""

    def __init__(self, text: str, size: int = 0):
        super().__init__(text)
        self.bytes = size


class DiskRefusal(Refusal, NoSpace):
    reason = DISK


class QuotaRefusal(Refusal, NoSpace):
    reason = QUOTA


class BitrateRefusal(Refusal, Unprocessable):
    reason = BITRATE


@dataclass(frozen=True)
class Day:
    """A recent day of the camera's, as the catalog has it: bytes (segments and videos) and footage."""

    day: str
    size: int
    duration: float


def room(free: int, keep_free: int, incoming: int, mount: str) -> str | None:
    """An upload of `incoming` bytes must leave `keep_free` on the filesystem: it is refused,
    not stored by making retention delete someone's footage."""
    if free - incoming >= keep_free:
        return None
    return (f"the disk is full for uploads: {mount} has {format.size(max(free, 0))} free,"
            f" keep_free is {format.size(keep_free)}, and {format.size(incoming)} more would go"
            " below it; nothing was kept, try again later")


def quota(setting: int, cap: int, recent: Iterable[Day], today: str) -> int:
    """The bytes a camera may upload into one day: `upload_quota` when set (not 0); else
    QUOTA_FACTOR days at the highest rate of its recent days (a day with an hour of footage at
    least), at most `cap` (`upload_quota_max`), and the cap itself for a camera without any."""
    if setting:
        return setting
    rates = [d.size / d.duration for d in recent
             if d.day < today and d.duration >= MIN_SPAN and d.size > 0]
    if not rates:
        return cap
    return min(cap, int(max(rates) * 86400 * QUOTA_FACTOR))


def over_quota(day: str, held: int, incoming: int, limit: int, automatic: bool) -> str | None:
    """The day's bytes already there (and on their way) plus this upload, against the quota."""
    if held + incoming <= limit:
        return None
    how = (f"{QUOTA_FACTOR} times its busiest recent day" if automatic else "upload_quota")
    return (f"{day} holds {format.size(held)}; {format.size(incoming)} more is over the camera's"
            f" daily quota of {format.size(limit)} ({how}); nothing was kept")


def over_sent(sent: int, incoming: int, limit: int) -> str | None:
    """What the camera sent in the last 24 hours, whatever days it went to, plus this upload,
    against the same quota: the days an upload may go to (upload_backlog to tomorrow) are not
    each a quota of their own."""
    if sent + incoming <= limit:
        return None
    return (f"the camera sent {format.size(sent)} in the last 24 hours; {format.size(incoming)}"
            f" more is over its daily quota of {format.size(limit)}; nothing was kept")


def bitrate(size: int, footage: int, duration: float, max_mbps: float) -> str | None:
    """A segment that is mostly filler (null packets, no stream's packets, no packets at all)
    or whose bytes are far too many for its footage's duration."""
    if size and footage < size * MIN_FOOTAGE:
        return (f"{format.size(size)} of which only {format.size(footage)} is footage (the rest"
                " null packets or filler); nothing was kept")
    mbps = size * 8 / max(duration, 1.0) / 1e6  # a segment of one frame counts as a second
    if mbps > max_mbps:
        return (f"{format.size(size)} for {duration:.1f} s of footage is {mbps:.0f} Mbit/s, over"
                f" upload_max_mbps ({max_mbps:g}); nothing was kept")
    return None
