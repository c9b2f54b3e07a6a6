"""One module per kind of record the Tryton adapter reads or writes.

Each exposes a class built with ``(client, lookups)``; the adapter maps
Junction's entity names to them in ``adapter.ENTITIES``.
"""
