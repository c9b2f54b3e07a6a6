"""The Files adapter's watermark: which file a read got to, and how far.

Stored as compact JSON, e.g.::

    {"entity": "customer", "file": "customers-0002.csv", "size": 5120, "mtime": 1767225600,
     "row": 500, "complete": false, "error": "",
     "done": [["customers-0001.csv", 2048, 1767222000, ""]]}

``row`` counts the records already handed out from ``file`` (blank lines are
not records); ``complete`` says that was all of it, and ``error`` why the file
could not be read (it then goes to the error folder, not the archive).
``done`` lists the other files this read finished, which may still wait to be
moved. Size and mtime identify one upload of a file, so a new file that reuses
an old name is read, never moved away unread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import PermanentError
from .locations import FileInfo

MAX_REASON = 500


@dataclass(frozen=True)
class Finished:
    """A file read to the end; ``error`` is set when it was unreadable."""

    info: FileInfo
    error: str = ""


@dataclass
class Watermark:
    entity: str
    file: FileInfo
    row: int = 0
    complete: bool = False
    error: str = ""
    done: list[Finished] = field(default_factory=list)

    def dump(self) -> str:
        data = {
            "entity": self.entity,
            "file": self.file.name,
            "size": self.file.size,
            "mtime": self.file.mtime,
            "row": self.row,
            "complete": self.complete,
            "error": self.error[:MAX_REASON],
            "done": [[d.info.name, d.info.size, d.info.mtime, d.error[:MAX_REASON]] for d in self.done],
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def parse(cls, text: str | None) -> Watermark | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                entity=data["entity"],
                file=FileInfo(data["file"], int(data["size"]), int(data["mtime"])),
                row=int(data["row"]),
                complete=bool(data["complete"]),
                error=str(data.get("error", "")),
                done=[Finished(FileInfo(n, int(s), int(m)), str(e)) for n, s, m, e in data.get("done", [])],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(
                f"The stored watermark {text[:80]!r} was not written by the Files adapter ({exc}); "
                "clear it to read every file in the inbound folder."
            ) from None

    def finished(self) -> list[Finished]:
        """Files this watermark says were read to the end: to be moved once it is committed."""
        return [*self.done, Finished(self.file, self.error)] if self.complete else list(self.done)
