"""One alert: its kind, words, camera, still and link, and the key that makes identical ones one."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

KINDS = ("offline", "online", "activity", "disk", "compaction", "security", "test")
URGENT = frozenset({"offline", "disk", "security"})  # these go out in quiet hours too


@dataclass(frozen=True)
class Alert:
    kind: str
    title: str
    body: str
    key: str  # alerts with the same key are one alert (coalesced)
    time: float
    camera: str | None = None
    still: bytes | None = None  # a JPEG, attached where the target supports it
    link: str | None = None  # the player at that moment

    def to_json(self) -> str:
        fields = {k: getattr(self, k) for k in ("kind", "title", "body", "key", "time",
                                                "camera", "link")}
        fields["still"] = base64.b64encode(self.still).decode() if self.still else None
        return json.dumps(fields, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        fields = json.loads(text)
        still = fields.pop("still", None)
        return cls(**fields, still=base64.b64decode(still) if still else None)
