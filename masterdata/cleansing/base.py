"""The building blocks every cleansing rule shares.

A rule is a small function ``(text, ctx) -> text | None`` wrapped in a ``Rule``
with a stable dotted name (shown to stewards as the ``rule`` of a ``Change``)
and a docstring (shown as its explanation). Rules:

- receive a non-empty ``str`` (the pipeline stops a chain once a value is empty);
- return the new value, or ``None`` when nothing is left;
- raise ``Reject(reason)`` when the value cannot be accepted: the field gets an
  error and the record is quarantined;
- call ``ctx.warn(reason)`` to keep a value but flag it.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from masterdata.cleansing.locales import LocaleInfo

RuleFunc = Callable[[str, "Context"], str | None]

RULES: dict[str, "Rule"] = {}


class Reject(Exception):
    """A value a rule cannot accept; ``keep`` (optional) is what the field keeps."""

    def __init__(self, reason: str, keep: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.keep = keep


@dataclass(frozen=True)
class Change:
    """One value a rule altered: what the source sent, what it became, and why."""

    field: str
    before: Any
    after: Any
    rule: str


@dataclass
class CleanseResult:
    """Canonical values plus the audit trail of how they were obtained."""

    values: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    @property
    def quarantined(self) -> bool:
        return bool(self.errors)


@dataclass
class Context:
    """What a rule may know beyond its own value: the field, the locale, the record."""

    field: str
    kind: str
    locale: LocaleInfo
    values: Mapping[str, Any]  # values cleaned so far (country comes first)
    warnings: list[str] = field(default_factory=list)

    def warn(self, reason: str) -> None:
        self.warnings.append(reason)


@dataclass(frozen=True)
class Rule:
    """A named, documented cleansing step."""

    name: str
    func: RuleFunc

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()

    def __call__(self, text: str, ctx: Context) -> str | None:
        return self.func(text, ctx)


def rule(name: str) -> Callable[[RuleFunc], Rule]:
    """Register a function as the rule ``name``; names are unique and documented."""

    def register(func: RuleFunc) -> Rule:
        if name in RULES:
            raise ValueError(f"duplicate cleansing rule name {name!r}")
        if not (func.__doc__ or "").strip():
            raise ValueError(f"cleansing rule {name!r} needs a docstring")
        RULES[name] = Rule(name, func)
        return RULES[name]

    return register


def jsonable(value: Any) -> Any:
    """``value`` as something ``json.dumps`` (and PostgreSQL's JSON) accepts."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal | date):
        return str(value)
    return repr(value)[:200]


def short(text: str, limit: int = 40) -> str:
    """``text`` quoted and shortened for a readable reason."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
