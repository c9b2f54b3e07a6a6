"""The Tryton ERP adapter (key ``tryton``): parties, products, sales and stock over JSON-RPC.

- ``client.py``: the JSON-RPC client (session login, Tryton's value encoding, errors).
  It imports nothing from Django, so demo/tryton_server.py seeds databases with it.
- ``adapter.py``: TrytonAdapter: the entity table, read / write / reconcile / test connection.
- ``settings.py``: settings and credentials serializers.
- ``upsert.py``, ``reading.py``: batched upserts with a one-by-one fallback; watermark paging.
- ``lookups.py``: countries, units and stock locations by code.
- ``entities/``: one module per kind of record (parties, products, sales, stock levels).

See docs/connectors/tryton.md.
"""

from .adapter import TrytonAdapter

__all__ = ["TrytonAdapter"]
