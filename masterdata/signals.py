"""Signals other apps hear master-data changes by, without masterdata knowing them.

All are sent inside the transaction that made the change: a receiver's writes
commit or roll back with it. Integrations uses them to carry the change to the
targets that hold the golden records (integrations/engine/merges.py).
"""

from django.dispatch import Signal

golden_merged = Signal()  # merge: the Merge row
golden_unmerged = Signal()  # merge: the Merge row
# application: the RuleApplication; goldens: the golden records whose values its rules changed
golden_recomputed = Signal()
