"""The Files adapter's watermark: which file a read got to, and how far.

Stored as compact JSON, e.g.::

    {"entity": "customer", "file": "customers-0002.csv", "size": 5120, "mtime": 1767225600,
     "mtime_ns": 1767225600123456789, "row": 500, "complete": false, "error": "",
     "done": [["customers-0001.csv", 2048, 1767222000, "", 1767222000987654321]]}

``row`` counts the records already handed out from ``file`` (blank lines are
not records); ``complete`` says that was all of it, and ``error`` why the file
could not be read (it then goes to the error folder, not the archive).
``done`` lists the other files this read finished, which may still wait to be
moved. Size and mtime identify one upload of a file, so a new file that reuses
an old name is read, never moved away unread (``mtime_ns`` where the location
has it, 0 over SFTP; a watermark written before it existed reads as 0, so a
file it names is read once more, which is harmless: its records come back
unchanged).
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
            "mtime_ns": self.file.mtime_ns,
            "row": self.row,
            "complete": self.complete,
            "error": self.error[:MAX_REASON],
            "done": [_dump(d) for d in self.done],
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
                file=FileInfo(data["file"], int(data["size"]), int(data["mtime"]), int(data.get("mtime_ns", 0))),
                row=int(data["row"]),
                complete=bool(data["complete"]),
                error=str(data.get("error", "")),
                done=[_finished(*item) for item in data.get("done", [])],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(
                f"The stored watermark {text[:80]!r} was not written by the Files adapter ({exc}); "
                "clear it to read every file in the inbound folder."
            ) from None

    def finished(self) -> list[Finished]:
        """Files this watermark says were read to the end: to be moved once it is committed."""
        return [*self.done, Finished(self.file, self.error)] if self.complete else list(self.done)


def _dump(done: Finished) -> list:
    info = done.info
    return [info.name, info.size, info.mtime, done.error[:MAX_REASON], info.mtime_ns]


def _finished(name, size, mtime, error, mtime_ns=0) -> Finished:
    """A ``done`` entry; those written before ``mtime_ns`` existed have four items."""
    return Finished(FileInfo(name, int(size), int(mtime), int(mtime_ns)), str(error))
