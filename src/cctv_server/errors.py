"""Error classes, each carrying its HTTP status and a one-line reason."""


class CctvError(Exception):
    """Base class: `str(err)` is the one-line reason shown to the user."""

    status = 500


class BadRequest(CctvError):
    status = 400


class Forbidden(CctvError):
    status = 403


class NotFound(CctvError):
    status = 404


class ConfigError(CctvError):
    """A setting is missing or malformed; the message names the key."""


class FFmpegError(CctvError):
    """ffmpeg exited non-zero; the message carries the tail of its stderr."""


class CorruptSegment(CctvError):
    """A segment's bytes are not a readable MPEG-TS video."""
