"""Engines and reflected write tables, shared in a process by every SqlAdapter with the same connection.

A load task opens a new adapter for every batch. Built afresh each time, its
engine meant a new pool (a new connection through the outbound policy), a
new compiled-statement cache, and the write table reflected again: about a
sixth of a delivering worker's CPU.

- Engines are keyed by a keyed digest of what defines them (dialect, URL with
  the password, connect_args), so the cache's keys hold no secret; the engine
  holds its URL as it always did. At most MAX_ENGINES, the least recently used
  goes first (disposed).
- A reflected table is trusted for TABLE_TTL seconds, so a schema change at
  the target is seen without restarting workers; the adapter reflects again at
  once when a write meets a column the table lacks or the database says a
  column or table does not exist.
- A forked child (Celery's prefork pool) drops the pooled connections it
  inherited without closing them, as SQLAlchemy documents
  (``engine.dispose(close=False)``): they stay the parent's.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

MAX_ENGINES = 32
TABLE_TTL = 120.0  # seconds a reflected write table is used without looking at the database again
POOL_RECYCLE = 300  # seconds; older connections are replaced, so hosts are resolved and checked again


@dataclass
class Reflected:
    """A write table as the database described it, and when."""

    table: sa.Table
    unique: list[set[str]]  # column sets the table holds unique
    at: float = field(default_factory=time.monotonic)

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self.at < TABLE_TTL


@dataclass
class SharedEngine:
    """An engine and the write tables reflected through it (by name)."""

    engine: sa.Engine
    tables: dict[str, Reflected] = field(default_factory=dict)


_DIGEST_KEY = secrets.token_bytes(32)  # per process: a key is no offline test for a guessed password
_lock = threading.Lock()
_engines: OrderedDict[str, SharedEngine] = OrderedDict()


def key(dialect: str, url: sa.URL, connect_args: dict) -> str:
    """A digest of everything that defines an engine; the password is in it, but not readable from it."""
    text = json.dumps([dialect, url.render_as_string(hide_password=False), connect_args], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), key=_DIGEST_KEY, digest_size=32).hexdigest()


def shared(engine_key: str, create: Callable[[], sa.Engine]) -> SharedEngine:
    """The process's engine for ``engine_key``, made with ``create`` the first time (thread-safe)."""
    with _lock:
        found = _engines.get(engine_key)
        if found is None:
            found = _engines[engine_key] = SharedEngine(create())
        _engines.move_to_end(engine_key)
        evicted = [_engines.popitem(last=False)[1] for _ in range(len(_engines) - MAX_ENGINES)]
    for entry in evicted:  # an adapter still holding it gets a new pool on its next connect
        entry.engine.dispose()
    return found


def clear() -> None:
    """Dispose of every shared engine and forget the reflected tables (tests start from nothing)."""
    global _engines
    with _lock:
        entries, _engines = list(_engines.values()), OrderedDict()
    for entry in entries:
        entry.engine.dispose()


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the lock at the fork; no thread of the child does.
    global _lock
    _lock = threading.Lock()
    for entry in _engines.values():
        entry.engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
