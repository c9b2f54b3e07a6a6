"""Settings and credentials of a Tryton connector, with a field-level error for every bad value."""

from __future__ import annotations

import re

from rest_framework import serializers

from integrations.outbound import UrlField

DATABASE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")


class TrytonSettingsSerializer(serializers.Serializer):
    """Where the Tryton server is and how much to send per call."""

    url = UrlField(help_text="The server's address without the database, e.g. https://erp.example.com:8000")
    database = serializers.CharField(max_length=63, help_text="The Tryton database name")
    timeout = serializers.FloatField(default=30, min_value=1, max_value=600, help_text="Seconds per call")
    batch_size = serializers.IntegerField(
        default=100, min_value=1, max_value=1000, help_text="Records created or written per call"
    )
    company = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="Company id; empty: the user's company"
    )
    stock_locations = serializers.ListField(
        child=serializers.CharField(max_length=64),
        default=lambda: ["WH"],
        allow_empty=False,
        help_text="Codes of the stock locations (warehouses) whose quantities are read, e.g. WH",
    )

    def validate_url(self, value: str) -> str:
        value = value.rstrip("/")
        if value.endswith("/rpc"):
            raise serializers.ValidationError("Leave out /rpc: the adapter adds the database and /rpc/ itself.")
        return value

    def validate_database(self, value: str) -> str:
        if not DATABASE_NAME.fullmatch(value):
            raise serializers.ValidationError("Letters, digits, _, . and - only, as Tryton's database names are.")
        return value


class TrytonCredentialsSerializer(serializers.Serializer):
    """The Tryton user Junction logs in as (never the admin in production: see docs/connectors/tryton.md)."""

    login = serializers.CharField(max_length=128)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
