"""Adapters: how Junction talks to each kind of external system.

Every adapter is one module that subclasses :class:`base.Adapter` and registers
itself with :func:`registry.register`. See docs/connectors.md.
"""
