"""What the trail records of a model: its own fields, not the far side of other models' relations.

auditlog lists a model's fields with ``_meta.get_fields()``, reverse relations
included, so the entry of every created golden record read ``source_records:
None → masterdata.SourceRecord.None``, ``blocking_keys: …``, ``merges: …``:
no information for an auditor, and a related manager built per relation per
entry. The relation is recorded where it is stored, on the other model's
foreign key (a source record's entry names its golden record).
"""

from auditlog.registry import auditlog


def reverse_relations(model) -> list[str]:
    return [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete and not f.many_to_many]


def exclude_reverse_relations() -> None:
    """Add each tracked model's reverse relations to its ``exclude_fields`` (models with an
    explicit ``include_fields`` list already name what they track)."""
    for model in auditlog.get_models():
        options = auditlog._registry[model]  # auditlog 3.4's registry; tests/test_stack.py checks the effect
        if options["include_fields"]:
            continue
        excluded = list(options["exclude_fields"])
        options["exclude_fields"] = excluded + [name for name in reverse_relations(model) if name not in excluded]
