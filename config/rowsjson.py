"""Rows as one JSON document for PostgreSQL to unpack (``jsonb_to_recordset``).

The bulk writers (``audit.bulk``, the outbox) send a page of rows as one JSON
text. The standard library's encoder spent about 5 % of the master-data step
on it; orjson writes the same document several times faster. Only the
transport changes: PostgreSQL parses either text into the same rows. Texts
that are stored or hashed as text (audit entries' ``changes``, the hash chain,
payload digests) keep the standard library's exact output.

Values keep ``DjangoJSONEncoder``'s meaning (dates, times, decimals, UUIDs,
lazy strings); what orjson refuses but the standard library accepts (integers
beyond 64 bits, say) goes through the standard library, so nothing that was
written before fails now. One difference: a float that is not a number (NaN,
infinity) becomes ``null``, where the standard library's ``NaN`` made
PostgreSQL refuse the whole statement (JSON has no such numbers).
"""

import json

import orjson
from django.core.serializers.json import DjangoJSONEncoder

_django = DjangoJSONEncoder()
# Dates, times and dataclasses go to DjangoJSONEncoder as before (orjson would write its own forms,
# with microseconds that DjangoJSONEncoder cuts); keys that are not text become text, as in json.
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(rows) -> str:
    """``json.dumps(rows, cls=DjangoJSONEncoder)``, as PostgreSQL reads it, faster."""
    try:
        return orjson.dumps(rows, default=_django.default, option=OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one: a value only the standard library writes
        return json.dumps(rows, cls=DjangoJSONEncoder)
