"""Customers and suppliers: ``party.party`` with its first address and its email and phone.

Written from a flat payload in Junction's canonical field names, with ``code``
as the upsert key::

    {"code": "C-1001", "name": "Acme GmbH", "street": "Hauptstr. 1", "postcode": "10115",
     "city": "Berlin", "country": "DE", "email": "info@acme.example", "phone": "+49 30 123456"}

``name`` falls back to ``company``, then to ``first_name`` and ``last_name``.
Junction manages the party's first address (by sequence) and its first email
and phone; more addresses or contacts people add in Tryton are left alone. An
empty or missing value never blanks what Tryton holds: other people edit the
ERP too. ``active: false`` archives the party. Other payload keys are ignored.

Read back in the same shape, plus ``company`` (customers: Tryton does not tell
a person from an organisation), ``active`` and ``tryton_id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...base import Page, SourceRecord
from ...errors import PermanentError
from ..client import TrytonClient
from ..reading import ALL, changed, pages, stamp
from ..upsert import Current, Desired, Writer, each_or_error
from .common import Lookups, text

# Junction's field → Tryton's party.address field. ``postal_code`` is accepted as well as ``postcode``.
ADDRESS_FIELDS = {"street": "street", "postcode": "postal_code", "city": "city"}
# Junction's field → the contact mechanism types that fill it (the first one written to is the first listed).
CONTACT_TYPES = {"email": ("email",), "phone": ("phone", "mobile")}
NOT_PHONE_DIGITS = re.compile(r"[^\d+]")


def same_contact(kind: str, have: str | None, want: str) -> bool:
    """Whether two contact values are the same (phones ignoring spaces and punctuation Tryton may add)."""
    have = have or ""
    if kind == "phone":
        return NOT_PHONE_DIGITS.sub("", have) == NOT_PHONE_DIGITS.sub("", want)
    return have.casefold() == want.casefold() if kind == "email" else have == want


class Parties(Writer):
    """``customer`` and ``supplier`` (``company`` in the read record only for customers)."""

    model = "party.party"

    def __init__(self, client: TrytonClient, lookups: Lookups, *, with_company: bool = True):
        self.client, self.countries, self.with_company = client, lookups.countries, with_company

    # --- Writing

    def key(self, payload: dict[str, Any]) -> str:
        code = text(payload.get("code"))
        if not code:
            raise PermanentError("The record has no code: a Tryton party is matched by its code.")
        return code

    def prepare(self, payloads: list[dict[str, Any]]) -> list[Desired | PermanentError]:
        self.countries.load_codes({text(p.get("country")) for p in payloads} - {""})
        return each_or_error(payloads, self._desired)

    def _desired(self, payload: dict[str, Any]) -> Desired:
        code = self.key(payload)
        person = " ".join(filter(None, (text(payload.get("first_name")), text(payload.get("last_name")))))
        name = text(payload.get("name")) or text(payload.get("company")) or person
        if not name:
            raise PermanentError(f"Party {code} has no name (give name, company, or first_name and last_name).")
        given = {field: text(payload.get(key)) for key, field in ADDRESS_FIELDS.items()}
        given["postal_code"] = given["postal_code"] or text(payload.get("postal_code"))
        address: dict[str, Any] = {field: value for field, value in given.items() if value}
        if country := text(payload.get("country")):
            address["country"] = self.countries.id_for(country)
        contacts = {kind: text(payload.get(kind)) for kind in CONTACT_TYPES if text(payload.get(kind))}
        active = None if payload.get("active") in (None, "") else bool(payload["active"])
        values: dict[str, Any] = {"code": code, "name": name}
        if address:
            values["addresses"] = [["create", [address]]]
        if contacts:
            values["contact_mechanisms"] = [["create", [{"type": k, "value": v} for k, v in contacts.items()]]]
        if active is not None:
            values["active"] = active
        return Desired(code, values, {"name": name, "address": address, "contacts": contacts, "active": active})

    def current(self, keys: list[str]) -> dict[str, Current]:
        rows = self.client.search_read(self.model, [("code", "in", keys)], ["code", "name", "active"], context=ALL)
        details = self._details([row["id"] for row in rows])
        return {row["code"]: Current(row["id"], row["id"], {**row, **details[row["id"]]}) for row in rows}

    def plan(self, current: Current, desired: Desired) -> dict[str, Any] | None:
        want, have = desired.compare, current.data
        changes: dict[str, Any] = {}
        if want["name"] != have["name"]:
            changes["name"] = want["name"]
        if address := self._address_changes(have["address"], want["address"]):
            changes["addresses"] = address
        if contacts := self._contact_changes(have["contacts"], want["contacts"]):
            changes["contact_mechanisms"] = contacts
        if changes and not have["active"] and want["active"] is not True:
            raise PermanentError(
                f"Party {desired.key} is archived in Tryton, which keeps archived parties read-only: "
                "send active: true to reactivate it, or reactivate it in Tryton."
            )
        if want["active"] is not None and want["active"] != bool(have["active"]):
            changes["active"] = want["active"]
        return changes or None

    @staticmethod
    def _address_changes(have: dict | None, want: dict[str, Any]) -> list:
        if not want:
            return []
        if have is None:
            return [["create", [want]]]
        differ = {field: value for field, value in want.items() if value != (have.get(field) or "")}
        return [["write", [have["id"]], differ]] if differ else []

    @staticmethod
    def _contact_changes(have: dict[str, dict], want: dict[str, str]) -> list:
        actions, new = [], []
        for kind, value in want.items():
            mechanism = have.get(kind)
            if mechanism is None:
                new.append({"type": CONTACT_TYPES[kind][0], "value": value})
            elif not same_contact(kind, mechanism["value"], value):
                actions.append(["write", [mechanism["id"]], {"value": value}])
        return actions + ([["create", new]] if new else [])

    # Tryton keeps an archived party read-only: a party is created active and archived afterwards,
    # and reactivated in a call of its own before anything else about it changes.

    def create(self, values: list[dict[str, Any]]) -> list[int]:
        ids = self.client.create(self.model, [{k: v for k, v in row.items() if k != "active"} for row in values])
        if archived := [ident for ident, row in zip(ids, values, strict=True) if row.get("active") is False]:
            self.client.write(self.model, archived, {"active": False})
        return ids

    def write(self, pairs: list[tuple[Current, dict[str, Any]]]) -> None:
        if reactivated := [now.id for now, changes in pairs if changes.get("active") is True]:
            self.client.write(self.model, reactivated, {"active": True})
        rest = [([now.id], {k: v for k, v in changes.items() if k != "active"}) for now, changes in pairs]
        archived = [now.id for now, changes in pairs if changes.get("active") is False]
        parts = [part for ids, changes in rest if changes for part in (ids, changes)]
        parts += [archived, {"active": False}] if archived else []
        if parts:
            self.client.write(self.model, *parts)

    # --- Reading

    def _details(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Each party's first address and first email and phone (two calls for all ``ids``)."""
        details: dict[int, dict[str, Any]] = {i: {"address": None, "contacts": {}} for i in ids}
        if not ids:
            return details
        order = [("party", "ASC"), ("sequence", "ASC"), ("id", "ASC")]
        for row in self.client.search_read(
            "party.address", [("party", "in", ids)], ["party", *ADDRESS_FIELDS.values(), "country"], order=order
        ):
            details[row["party"]]["address"] = details[row["party"]]["address"] or row
        kinds = {t: kind for kind, types in CONTACT_TYPES.items() for t in types}
        domain = [("party", "in", ids), ("type", "in", list(kinds))]
        for row in self.client.search_read("party.contact_mechanism", domain, ["party", "type", "value"], order=order):
            details[row["party"]]["contacts"].setdefault(kinds[row["type"]], row)
        return details

    def read(self, watermark: str | None, page_size: int) -> Iterator[Page]:
        for page, mark in pages(changed(self.client, self.model, watermark), page_size, watermark):
            ids = [c.id for c in page]
            rows = {r["id"]: r for r in self.client.model(self.model, "read", ids, ["code", "name", "active"])}
            details = self._details(ids)
            self.countries.load_ids({(d["address"] or {}).get("country") for d in details.values()} - {None})
            records = [
                SourceRecord(rows[c.id]["code"] or f"id-{c.id}", self.record(rows[c.id], details[c.id]), stamp(c.at))
                for c in page
            ]
            yield Page(records, mark)

    def record(self, row: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
        """A party in Junction's canonical customer / supplier field names."""
        address = details["address"] or {}
        record = {"code": row["code"] or "", "name": row["name"] or ""}
        if self.with_company:
            record["company"] = record["name"]
        record |= {key: address.get(field) or "" for key, field in ADDRESS_FIELDS.items()}
        record["country"] = self.countries.code_for(address.get("country"))
        record |= {kind: (details["contacts"].get(kind) or {}).get("value") or "" for kind in CONTACT_TYPES}
        return record | {"active": bool(row["active"]), "tryton_id": row["id"]}

    def all_keys(self) -> set[str]:
        rows = self.client.search_read(self.model, [], ["code"], context=ALL)
        return {row["code"] for row in rows if row["code"]}
