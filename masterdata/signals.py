"""Signals other apps hear master-data changes by, without masterdata knowing them.

Both are sent inside the merge's (or unmerge's) transaction, with ``merge`` (the
``Merge`` row): a receiver's writes commit or roll back with it. Integrations
uses them to carry a merge to the targets that hold its records
(integrations/engine/merges.py).
"""

from django.dispatch import Signal

golden_merged = Signal()  # merge
golden_unmerged = Signal()  # merge
