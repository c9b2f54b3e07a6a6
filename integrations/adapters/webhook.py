"""Inbound webhooks: systems push records to ``POST /api/v1/inbound/<connector>/``.

Signed the Standard Webhooks way (https://www.standardwebhooks.com): headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` carrying
``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``. The request is stored as an
``InboundEvent`` and answered 202 at once; workers stage its records like any
other source's (``engine.pipeline.extract_inbound``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from functools import cached_property
from typing import Any

from rest_framework import serializers

from .base import Adapter, Check, SourceRecord
from .registry import register


class WebhookSettings(serializers.Serializer):
    id_field = serializers.CharField(default="id", help_text="The field of each record that holds its id.")
    version_field = serializers.CharField(
        required=False, allow_blank=True, help_text="A field that changes with each version, e.g. updated_at."
    )
    tolerance_seconds = serializers.IntegerField(
        default=300, min_value=10, max_value=3600, help_text="Timestamps further than this from now are refused."
    )
    max_body_bytes = serializers.IntegerField(default=1_048_576, min_value=1024, max_value=20_971_520)


class WebhookCredentials(serializers.Serializer):
    secret = serializers.CharField(
        min_length=24, help_text='The signing secret shared with the sender ("whsec_…" or at least 24 characters).'
    )

    def validate_secret(self, value: str) -> str:
        if value.startswith("whsec_"):
            try:
                key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
            except ValueError:
                raise serializers.ValidationError("After whsec_ the secret must be base64.") from None
            if len(key) < 16:
                raise serializers.ValidationError("The key is too short: use at least 16 random bytes.")
        return value


class SignatureError(Exception):
    """Why a request's signature was refused; the message is safe to show the sender."""


@register
class WebhookAdapter(Adapter):
    key = "webhook"
    label = "Inbound webhook"
    settings_schema = WebhookSettings
    credentials_schema = WebhookCredentials
    can_write = False
    inbound = True  # records arrive as InboundEvents, not by reading

    @staticmethod
    def secret_bytes(secret: str) -> bytes:
        if secret.startswith("whsec_"):
            return base64.b64decode(secret.removeprefix("whsec_"))
        return secret.encode()

    # An adapter instance is read-only once built, and the endpoint keeps one per connector
    # (integrations/api/inbound.py): what it derives from settings and secret is derived once.
    @cached_property
    def signing_key(self) -> bytes:
        return self.secret_bytes(self.credentials["secret"])

    @cached_property
    def tolerance(self) -> int:
        return int(self.settings.get("tolerance_seconds", 300))

    @cached_property
    def max_body_bytes(self) -> int:
        return int(self.settings.get("max_body_bytes", 1_048_576))

    def sign(self, event_id: str, timestamp: int, body: bytes) -> str:
        mac = hmac.new(self.signing_key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        return "v1," + base64.b64encode(mac).decode()

    def verify(self, headers: dict[str, str], body: bytes, now: float | None = None) -> str:
        """The event id when the signature and timestamp are good; SignatureError otherwise."""
        event_id, stamp, signatures = (
            headers.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
        )
        if not (event_id and stamp and signatures):
            raise SignatureError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
        try:
            timestamp = int(stamp)
        except ValueError:
            raise SignatureError("webhook-timestamp must be Unix seconds.") from None
        if abs((now or time.time()) - timestamp) > self.tolerance:
            raise SignatureError("webhook-timestamp is too old or in the future; check the sender's clock.")
        expected = self.sign(event_id, timestamp, body).encode()
        # Every candidate is compared in constant time, and all of them, so the time taken
        # says nothing about which one (or which byte) matched. Bytes, not str: compare_digest
        # refuses non-ASCII str, and a header may hold anything (WSGI decodes it as Latin-1).
        matched = False
        for given in signatures.split():
            matched |= hmac.compare_digest(expected, given.encode("latin-1", "replace"))
        if not matched:
            raise SignatureError("The signature does not match the body; check the signing secret.")
        return event_id

    @classmethod
    def records_of(cls, event, settings: dict[str, Any]) -> list[SourceRecord]:
        """The records one stored event carries; a record without an id is marked for quarantine."""
        id_field, version_field = settings.get("id_field", "id"), settings.get("version_field") or ""
        records = []
        for position, record in enumerate(event.records, 1):
            if not isinstance(record, dict):
                payload = {"__error__": f"Record {position} of event {event.event_id} is not a JSON object."}
                records.append(SourceRecord(f"{event.event_id}#{position}", {**payload, "raw": record}))
                continue
            external_id = record.get(id_field)
            if external_id in (None, ""):
                payload = {**record, "__error__": f"Record {position} of event {event.event_id} has no {id_field!r}."}
                records.append(SourceRecord(f"{event.event_id}#{position}", payload))
                continue
            version = record.get(version_field) if version_field else None
            records.append(SourceRecord(str(external_id), record, str(version) if version is not None else None))
        return records

    def test_connection(self) -> list[Check]:
        has_secret = bool(self.credentials.get("secret"))
        return [
            Check("Signing secret set", has_secret, "" if has_secret else "Set a signing secret to accept events."),
            Check(
                "Endpoint", True, "Senders POST to /api/v1/inbound/<connector id>/, as shown on the connector's page."
            ),
        ]
