"""The stewardship workspace's pages, one module per area."""

from .bulk import BulkMergeView
from .imports import ImportJobDetailView, ImportView
from .records import (
    GoldenRecordDetailView,
    GoldenRecordListView,
    MergeUndoView,
    QuarantineListView,
    SourceRecordDetailView,
)
from .review import (
    DuplicateCandidateDetailView,
    DuplicateCandidateListView,
    DuplicateCandidateMergeView,
    DuplicateCandidateRejectView,
    open_count,
)
from .rules import (
    RuleApplicationProgressView,
    RuleApplicationStartView,
    SurvivorshipRuleEditView,
    SurvivorshipRulesView,
)

__all__ = [
    "BulkMergeView",
    "DuplicateCandidateDetailView",
    "DuplicateCandidateListView",
    "DuplicateCandidateMergeView",
    "DuplicateCandidateRejectView",
    "GoldenRecordDetailView",
    "GoldenRecordListView",
    "ImportJobDetailView",
    "ImportView",
    "MergeUndoView",
    "QuarantineListView",
    "RuleApplicationProgressView",
    "RuleApplicationStartView",
    "SourceRecordDetailView",
    "SurvivorshipRuleEditView",
    "SurvivorshipRulesView",
    "open_count",
]
