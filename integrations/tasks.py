"""Celery tasks for syncs (routed to the ``sync`` queue by config/celery.py)."""
