from .golden import BlockingKey, GoldenRecord
from .imports import ImportJob
from .review import DuplicateCandidate, Merge
from .source import SourceRecord
from .survivorship import RuleApplication, SurvivorshipRule

__all__ = [
    "BlockingKey",
    "DuplicateCandidate",
    "GoldenRecord",
    "ImportJob",
    "Merge",
    "RuleApplication",
    "SourceRecord",
    "SurvivorshipRule",
]
