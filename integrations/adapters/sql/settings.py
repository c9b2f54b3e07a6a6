"""Settings of a SQL connector, with a field-level error for every bad value.

Identifiers are checked against a strict pattern (and quoted by the database's
rules when used), so no setting can smuggle SQL into a statement; a read query
must be a single SELECT.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations import outbound

from .dialects import DIALECTS

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
ENTITY_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
HOST = re.compile(r"[A-Za-z0-9_.:\[\]-]{1,253}")
# Outside string literals and quoted names, a read query may not contain these.
FORBIDDEN_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|UPSERT|INTO|LOCK|SHARE)\b", re.IGNORECASE)
BIND = re.compile(r"(?<![:\w\\]):(\w+)")
EXCLUSIVE_WATERMARK = re.compile(r">\s*:watermark\b")
_QUOTED = (
    re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL),  # MySQL: backslash escapes
    re.compile(r"'(?:[^']|'')*'", re.DOTALL),  # standard SQL
)
_QUOTED_NAMES = re.compile(r'"(?:[^"]|"")*"|`(?:[^`]|``)*`')


def validate_identifier(value: str) -> None:
    """A column name as a plain identifier: nothing that quoting would have to escape."""
    if not IDENTIFIER.fullmatch(value):
        raise serializers.ValidationError(
            _("“%(value)s” is not a plain column name: letters, digits and _, starting with a letter or _.")
            % {"value": value}
        )


def validate_table_name(value: str) -> None:
    """``table`` or ``schema.table``, each part a plain identifier."""
    if not all(IDENTIFIER.fullmatch(part) for part in value.split(".")) or value.count(".") > 1:
        raise serializers.ValidationError(
            _("“%(value)s” is not a plain table name: name or schema.name, each letters, digits and _.")
            % {"value": value}
        )


def validate_read_query(query: str) -> None:
    """One SELECT (or WITH … SELECT) whose only bind parameter is ``:watermark``, used as ``>=``."""
    body = query.strip().removesuffix(";")
    skeletons = [_QUOTED_NAMES.sub('""', quoted.sub("''", body)) for quoted in _QUOTED]
    problems = []
    if not re.match(r"(SELECT|WITH)\b", body, re.IGNORECASE):
        problems.append(_("The query must start with SELECT (or WITH … SELECT)."))
    for skeleton in skeletons:
        if ";" in skeleton:
            problems.append(_("Only one statement is allowed: remove the “;”."))
        if any(marker in skeleton for marker in ("--", "/*", "#")) or re.search(r"\$\w*\$", skeleton):
            problems.append(_("Remove comments (--, /* */, #) and dollar quoting from the query."))
        if match := FORBIDDEN_WORDS.search(skeleton):
            problems.append(_("Only reads are allowed: the query contains %(word)s.") % {"word": match[1].upper()})
        if binds := set(BIND.findall(skeleton)) - {"watermark"}:
            problems.append(_("Unknown bind parameters: %(names)s.") % {"names": ", ".join(sorted(binds))})
        if "watermark" not in BIND.findall(skeleton):
            problems.append(_("The query must filter on :watermark, e.g. WHERE updated_at >= :watermark."))
        if EXCLUSIVE_WATERMARK.search(skeleton):
            problems.append(_("Use >= :watermark, not > :watermark: rows sharing the last value would be skipped."))
    if problems:
        raise serializers.ValidationError(list(dict.fromkeys(problems)))


class SqlEntitySettingsSerializer(serializers.Serializer):
    """Where one entity is read from and written to."""

    table = serializers.CharField(required=False, validators=[validate_table_name], help_text="Read from this table.")
    query = serializers.CharField(
        required=False, validators=[validate_read_query], help_text="…or from this SELECT, filtered on :watermark."
    )
    id_column = serializers.CharField(validators=[validate_identifier])
    watermark_column = serializers.CharField(required=False, validators=[validate_identifier])
    initial_watermark = serializers.CharField(
        required=False, help_text="Where a first read starts, e.g. 1970-01-01; required with a query."
    )
    columns = serializers.ListField(
        child=serializers.CharField(validators=[validate_identifier]), required=False, allow_empty=False
    )
    write_table = serializers.CharField(required=False, validators=[validate_table_name])
    key_columns = serializers.ListField(
        child=serializers.CharField(validators=[validate_identifier]), required=False, allow_empty=False
    )

    def validate(self, attrs):
        errors = {}
        reads = "table" in attrs or "query" in attrs
        if "table" in attrs and "query" in attrs:
            errors["query"] = [_("Give a table or a query, not both.")]
        if not reads and "write_table" not in attrs:
            errors["table"] = [_("Give a table or query to read from, or a write_table, or both.")]
        if reads and "watermark_column" not in attrs:
            errors["watermark_column"] = [_("Required for reading, e.g. updated_at or an increasing id.")]
        if "query" in attrs and "initial_watermark" not in attrs:
            errors["initial_watermark"] = [_("Required with a query: the value :watermark has on the first read.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs.setdefault("key_columns", [attrs["id_column"]])
        return attrs


class SqlSettingsSerializer(serializers.Serializer):
    """Connection to the database, and one entry per entity."""

    dialect = serializers.ChoiceField(
        choices=[("postgresql", "PostgreSQL"), ("mysql", "MySQL / MariaDB"), ("sqlite", "SQLite")]
    )
    host = serializers.CharField(required=False)
    port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    database = serializers.CharField(required=False, max_length=128)
    username = serializers.CharField(required=False, max_length=128)
    path = serializers.CharField(required=False, help_text="SQLite only: absolute path of the database file.")
    options = serializers.DictField(required=False, default=dict)
    entities = serializers.DictField(child=SqlEntitySettingsSerializer(), allow_empty=False)

    def validate_host(self, value):
        if not HOST.fullmatch(value):
            raise serializers.ValidationError(_("Give a host name or an IP address."))
        return outbound.validate_host(value, self)

    def validate_entities(self, value):
        if bad := [name for name in value if not ENTITY_NAME.fullmatch(name)]:
            raise serializers.ValidationError(
                _("Entity names are lower-case words with _: %(names)s.") % {"names": ", ".join(bad)}
            )
        return value

    def validate(self, attrs):
        dialect = DIALECTS[attrs["dialect"]]
        required = _("Required for %(label)s.") % {"label": dialect.label}
        errors = {field: [required] for field in dialect.required if not attrs.get(field)}
        if "path" in attrs and not attrs["path"].startswith("/"):
            errors["path"] = [_("Give an absolute path.")]
        if problems := _option_problems(dialect, attrs.get("options", {})):
            errors["options"] = problems
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


OPTION_TYPES = {int: _("a whole number"), float: _("a number"), str: _("text"), bool: _("true or false")}


def _option_problems(dialect, options: dict) -> list[str]:
    allowed = dialect.options
    if unknown := sorted(set(options) - set(allowed)):
        return [
            _("Unknown options for %(label)s: %(unknown)s; allowed: %(allowed)s.")
            % {"label": dialect.label, "unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
        ]
    return [
        _("Option %(name)s must be %(type)s.") % {"name": name, "type": OPTION_TYPES[allowed[name]]}
        for name, value in options.items()
        if not _fits(value, allowed[name])
    ]


def _fits(value, expected: type) -> bool:
    if isinstance(value, bool) or expected is bool:  # bool is an int to Python, not to a driver
        return isinstance(value, bool) and expected is bool
    return isinstance(value, int | float if expected is float else expected)


class SqlCredentialsSerializer(serializers.Serializer):
    """The database password; empty for trust or socket authentication, unused by SQLite."""

    password = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False)
