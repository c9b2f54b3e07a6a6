"""SQL databases (PostgreSQL, MySQL/MariaDB, SQLite) as sources and targets.

Reads page by keyset over (watermark column, id column): each page is its own
short statement, so no transaction stays open on the peer while the engine
works on a page, and equal timestamps are never skipped or read twice.
Writes upsert a batch in one statement per batch and report, per record,
whether it was created, updated or left unchanged.

Identifiers from settings are checked against a strict pattern and quoted by
the database's own rules; payload keys are only written when the reflected
write table has such a column. Values always travel as bound parameters.
Engines and reflected write tables are shared per process (engines.py).
docs/connectors/sql.md is the user-facing description.
"""

from .adapter import SqlAdapter
from .dialects import DIALECTS
from .settings import SqlCredentialsSerializer, SqlSettingsSerializer
from .values import json_safe

__all__ = ["DIALECTS", "SqlAdapter", "SqlCredentialsSerializer", "SqlSettingsSerializer", "json_safe"]
