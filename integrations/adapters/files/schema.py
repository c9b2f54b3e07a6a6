"""Settings and credentials of the Files adapter, as DRF serializers.

Field-level errors come from the fields; rules that involve several fields
are raised keyed by the field a person has to change, e.g.
``{"host": ["Required for SFTP."]}`` or, for one entity,
``{"entities": {"customer": {"archive_folder": ["Required to read: …"]}}}``.
"""

from __future__ import annotations

import codecs
import re
import string
from pathlib import Path, PurePosixPath

from django.conf import settings as django_settings
from django.db import models
from rest_framework import serializers

from integrations import outbound

FINGERPRINT_RE = re.compile(r"SHA256:([A-Za-z0-9+/]{43})=?")
TEMPLATE_FIELDS = {"entity", "run", "batch", "timestamp", "ext"}
DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t"}


class LocationType(models.TextChoices):
    LOCAL = "local", "Local folder"
    SFTP = "sftp", "SFTP server"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"
    XLSX = "xlsx", "Excel workbook (XLSX)"


def files_root() -> Path:
    """The one local folder that local connectors may use (settings.JUNCTION_FILES_ROOT).

    Folder settings are typed by people, so local paths are confined below it:
    a connector must not read or write arbitrary files on the Junction server.
    """
    root = getattr(django_settings, "JUNCTION_FILES_ROOT", None) or Path(django_settings.VAR_DIR) / "files"
    return Path(root).resolve()


def resolve_local(folder: str) -> Path:
    """``folder`` (relative to the files root, or absolute inside it) as an absolute path; ValueError outside it."""
    root = files_root()
    path = (root / folder).resolve()
    if path != root and root not in path.parents:
        raise ValueError(f"Local folders must be inside {root} (JUNCTION_FILES_ROOT).")
    return path


def fingerprints(value: str) -> list[str]:
    """Every ``SHA256:…`` fingerprint in ``value``, normalised as OpenSSH prints them (no ``=`` padding)."""
    return [f"SHA256:{match}" for match in FINGERPRINT_RE.findall(value)]


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


class FilesEntitySerializer(serializers.Serializer):
    """Folders, file names and format of one entity (customer, product, …)."""

    # Reading
    inbound_folder = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Folder the files to read arrive in."
    )
    pattern = serializers.CharField(
        default="*.csv", help_text='Glob for the files to read, e.g. "customers-*.csv"; case-sensitive.'
    )
    archive_folder = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Where fully read files are moved to."
    )
    error_folder = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Where unreadable files are moved, with a reason."
    )
    min_age_seconds = serializers.IntegerField(
        default=60, min_value=0, help_text="Skip files changed more recently than this (still being uploaded)."
    )
    id_field = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Column (or JSON field, dotted for nested) of the id."
    )
    version_field = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Optional column holding a version or change time."
    )
    # Format
    format = serializers.ChoiceField(choices=FileFormat.choices, default=FileFormat.CSV)
    delimiter = serializers.CharField(
        default=",", trim_whitespace=False, help_text='CSV: one character, "tab", or "auto" to detect it.'
    )
    quotechar = serializers.CharField(default='"', trim_whitespace=False, min_length=1, max_length=1)
    encoding = serializers.CharField(
        default="utf-8-sig", help_text='CSV/JSONL text encoding; "utf-8-sig" also reads UTF-8 with a BOM.'
    )
    header_row = serializers.IntegerField(
        default=1, min_value=0, help_text="CSV/XLSX: line or row holding the column names; 0 = none (set columns)."
    )
    columns = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Column names when there is no header."
    )
    sheet = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="XLSX: sheet name; blank = the first sheet."
    )
    # Writing
    outbound_folder = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Folder written files are placed in."
    )
    file_name_template = serializers.CharField(
        default="{entity}-{run}-{timestamp}.{ext}",
        help_text="Name of each written file; placeholders {entity}, {run}, {batch}, {timestamp}, {ext}.",
    )
    key_field = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Optional column for each record's idempotency key."
    )

    def validate_pattern(self, value):
        if "/" in value:
            raise serializers.ValidationError("A file name pattern, without folders.")
        return value

    def validate_delimiter(self, value):
        value = DELIMITER_ALIASES.get(value, value)
        if value != "auto" and (len(value) != 1 or value in "\r\n\"'"):
            raise serializers.ValidationError('One character (e.g. "," or ";"), "tab", or "auto".')
        return value

    def validate_encoding(self, value):
        try:
            codec = codecs.lookup(value)
        except LookupError:
            raise serializers.ValidationError(f"Unknown encoding {value!r}.") from None
        if not codec._is_text_encoding:
            raise serializers.ValidationError(f"{value!r} is not a text encoding.")
        return codec.name

    def validate_file_name_template(self, value):
        fields = template_fields(value)
        unknown = fields - TEMPLATE_FIELDS
        if unknown:
            known = ", ".join(f"{{{name}}}" for name in sorted(TEMPLATE_FIELDS))
            raise serializers.ValidationError(f"Unknown placeholder {{{sorted(unknown)[0]}}}; use {known}.")
        if "timestamp" not in fields and not {"run", "batch"} <= fields:
            raise serializers.ValidationError(
                "Include {timestamp}, or {run} and {batch}, so that every batch gets a file name of its own."
            )
        if "/" in value or value.startswith("."):
            raise serializers.ValidationError("A file name: no folders, and not starting with a dot.")
        return value

    def validate(self, attrs):
        errors = {}
        if not attrs["inbound_folder"] and not attrs["outbound_folder"]:
            errors["inbound_folder"] = "Set an inbound folder (to read), an outbound folder (to write), or both."
        if attrs["inbound_folder"]:
            for field in ("archive_folder", "error_folder", "id_field"):
                if not attrs[field]:
                    errors[field] = "Required to read files."
            for field in ("archive_folder", "error_folder"):
                if attrs[field] and same_folder(attrs[field], attrs["inbound_folder"]):
                    errors[field] = "Must differ from the inbound folder, or files would be read again."
        if attrs["header_row"] == 0 and attrs["format"] != FileFormat.JSONL:
            if not attrs["columns"]:
                errors["columns"] = "Name the columns when the files have no header row (header row 0)."
            elif attrs["id_field"] and attrs["id_field"] not in attrs["columns"]:
                errors["id_field"] = "Must be one of the columns named above."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def same_folder(a: str, b: str) -> bool:
    return PurePosixPath(a.rstrip("/") or "/") == PurePosixPath(b.rstrip("/") or "/")


FOLDER_FIELDS = ("inbound_folder", "archive_folder", "error_folder", "outbound_folder")


class FilesSettingsSerializer(serializers.Serializer):
    """Where the files are (a local folder or an SFTP server) and, per entity, how they look."""

    location = serializers.ChoiceField(choices=LocationType.choices, default=LocationType.LOCAL)
    host = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        validators=[outbound.validate_host],
        help_text="SFTP server host name.",
    )
    port = serializers.IntegerField(default=22, min_value=1, max_value=65535)
    username = serializers.CharField(required=False, allow_blank=True, default="")
    host_key_fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="SFTP: the server's SHA256 host key fingerprint(s), from "
        "`ssh-keyscan -p PORT HOST | ssh-keygen -lf -`; unknown host keys are refused.",
    )
    timeout = serializers.FloatField(default=30, min_value=1, max_value=600, help_text="Seconds per network step.")
    entities = serializers.DictField(child=FilesEntitySerializer(), allow_empty=False)

    def validate_host_key_fingerprint(self, value):
        found = fingerprints(value)
        if value.strip() and not found:
            raise serializers.ValidationError(
                'Expected "SHA256:" and 43 base64 characters, as `ssh-keygen -lf` prints them.'
            )
        return " ".join(found)

    def validate(self, attrs):
        errors = {}
        if attrs["location"] == LocationType.SFTP:
            for field in ("host", "username", "host_key_fingerprint"):
                if not attrs[field]:
                    errors[field] = "Required for SFTP."
        else:
            entity_errors = local_folder_errors(attrs["entities"])
            if entity_errors:
                errors["entities"] = entity_errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def local_folder_errors(entities: dict) -> dict:
    errors = {}
    for name, entity in entities.items():
        for field in FOLDER_FIELDS:
            try:
                if entity[field]:
                    resolve_local(entity[field])
            except ValueError as exc:
                errors.setdefault(name, {})[field] = [str(exc)]
    return errors


class FilesCredentialsSerializer(serializers.Serializer):
    """SFTP login: a password, a private key (PEM or OpenSSH text), or both. Write-only."""

    password = serializers.CharField(
        required=False, allow_blank=True, write_only=True, style={"input_type": "password"}
    )
    private_key = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        style={"base_template": "textarea.html"},
        help_text="The whole key file, -----BEGIN … PRIVATE KEY----- included (ed25519, ECDSA or RSA).",
    )
    private_key_passphrase = serializers.CharField(
        required=False, allow_blank=True, write_only=True, style={"input_type": "password"}
    )

    def validate(self, attrs):
        from .locations import load_private_key

        if attrs.get("private_key"):
            try:
                load_private_key(attrs["private_key"], attrs.get("private_key_passphrase") or None)
            except ValueError as exc:
                raise serializers.ValidationError({"private_key": str(exc)}) from None
        return attrs
