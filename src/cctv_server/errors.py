"""Domain errors: each says in one line what is wrong. The web layer alone maps them to HTTP statuses."""


class CctvError(Exception):
    """Base class: `str(err)` is the one-line reason shown to the user."""


class InvalidInput(CctvError):
    """A value from outside (a URL, a flag, a file name) is malformed."""


class Forbidden(CctvError):
    """Refused whatever the input: a path that leads outside the root."""


class Unsupported(CctvError):
    """A well-formed request that this server cannot carry out (yet): the reason says why."""


class TooLarge(CctvError):
    """An upload bigger than the limit."""


class Conflict(CctvError):
    """Something of that name exists already, with other contents; it stays as it was."""


class Unprocessable(CctvError):
    """Well-formed, but not what it must be: bytes that are no segment, a date out of range."""


class NoSpace(CctvError):
    """The disk is full: nothing was kept."""


class TooSlow(CctvError):
    """A client sent its request's body too slowly; it was abandoned and nothing kept."""


class NotFound(CctvError):
    """There is nothing of that name or in that range."""


class ConfigError(CctvError):
    """A setting is missing or malformed; the message names the key."""


class FFmpegError(CctvError):
    """ffmpeg exited non-zero; the message carries the tail of its stderr."""


class CorruptSegment(CctvError):
    """A segment's bytes are not a readable MPEG-TS video."""


class Busy(CctvError):
    """Every worker for this kind of request is busy: ask again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after
