"""Master-data business operations: ingest, survivorship, merge and unmerge.

Views, API, Celery tasks and the sync engine call these; none of them needs HTTP.
"""
