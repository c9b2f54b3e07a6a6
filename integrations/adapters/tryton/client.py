"""A small JSON-RPC client for Tryton (checked against trytond 8.2).

One ``httpx.Client`` per instance. It logs in once with ``common.db.login`` and
sends ``Authorization: Session base64(login:user_id:session)`` on every call
(Basic auth would hash the password on every request, about ten times slower).
A 401 means the session ended (timeout, logout, server restart): the client
logs in again once and repeats the call.

Values travel with Tryton's own ``__class__`` encoding (Decimal, datetime,
date, time, timedelta, bytes), so amounts never go through float.

Failures become the engine's two kinds of error:

- :class:`TrytonUserError` (permanent): Tryton refused the data: a
  ``UserError`` or ``UserWarning`` answer, with Tryton's own message.
- :class:`TrytonUnavailable` (transient): connection refused, timeout, 5xx,
  429, a concurrent update, or an unexpected server exception.
- :class:`PermanentError`: login refused, method not allowed (403), no such
  database (404).

This module imports neither Django nor the rest of Junction, so the demo's
Tryton server helper (``demo/tryton_server.py``) uses it for seeding.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx

from ..errors import PermanentError, TransientError

USER_AGENT = "Junction Tryton adapter (httpx)"
MESSAGE_LIMIT = 500  # characters of Tryton's error text kept in a message


class TrytonUserError(PermanentError):
    """Tryton refused a call for a business reason (UserError, UserWarning)."""


class TrytonUnavailable(TransientError):
    """Tryton could not be reached or failed for a reason that may pass."""


# --- Tryton's JSON encoding ---------------------------------------------------------------------


def encode(value: Any) -> Any:
    """``json.dumps`` default: Tryton's ``__class__`` objects for the types JSON lacks."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        fields = ("year", "month", "day", "hour", "minute", "second", "microsecond")
        return {"__class__": "datetime", **{name: getattr(value, name) for name in fields}}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dt.time):
        fields = ("hour", "minute", "second", "microsecond")
        return {"__class__": "time", **{name: getattr(value, name) for name in fields}}
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be sent to Tryton")


_DECODERS = {
    "Decimal": lambda d: Decimal(d["decimal"]),
    "datetime": lambda d: dt.datetime(
        d["year"], d["month"], d["day"], d["hour"], d["minute"], d["second"], d["microsecond"]
    ),
    "date": lambda d: dt.date(d["year"], d["month"], d["day"]),
    "time": lambda d: dt.time(d["hour"], d["minute"], d["second"], d["microsecond"]),
    "timedelta": lambda d: dt.timedelta(seconds=d["seconds"]),
    "bytes": lambda d: base64.b64decode(d["base64"]),
}


def decode(obj: dict) -> Any:
    """``json.loads`` object hook: the inverse of :func:`encode`."""
    decoder = _DECODERS.get(obj.get("__class__"))
    return decoder(obj) if decoder else obj


def _trim(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def error_from_answer(method: str, error: Any) -> Exception:
    """The adapter error for an ``{"error": …}`` answer (Tryton sends those with HTTP 200)."""
    kind, args = (error[0], error[1]) if isinstance(error, list | tuple) and len(error) > 1 else (error, None)
    if kind == "UserError":  # args: message, description, domain
        message, description = args[0], args[1]
        text = f"{message} {description}".strip() if description else message
        return TrytonUserError(_trim(text), detail=json.dumps(error, default=str)[:2000])
    if kind == "UserWarning":  # args: name, message, description; only a person can accept a warning
        return TrytonUserError(f"Tryton warns (a person must accept it in Tryton): {_trim(args[1])}")
    if kind == "ConcurrencyException":
        return TrytonUnavailable(f"Tryton reports a concurrent change: {_trim(args)}")
    if kind == "LoginException":
        return PermanentError(f"Tryton asks for more login information ({_trim(args[1])}).")
    # Any other exception inside Tryton: the answer is [str(exception), traceback], like an HTTP 500.
    return TrytonUnavailable(f"Tryton failed on {method}: {_trim(kind)}", detail=str(args or "")[:2000])


# --- The client ---------------------------------------------------------------------------------


class TrytonClient:
    """JSON-RPC calls to one Tryton database as one user; see the module docstring.

    ``transport``: the httpx transport to connect through; the adapter passes
    the outbound policy's (this module stays free of Django for the demo).

    ``calls`` counts the HTTP requests sent, logins included (tests assert on it).
    """

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        timeout: float = 30.0,
        context: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url = url.rstrip("/")
        self.database = database
        self.login_name = login
        self.password = password
        self.timeout = timeout
        self.extra_context = dict(context or {})
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
            # The adapter passes the outbound policy's transport (integrations/outbound.py);
            # proxies from the environment would hide the destination from it.
            transport=transport,
            trust_env=transport is None,
        )
        self.session: tuple[int, str] | None = None  # (user id, session key)
        self._context: dict[str, Any] | None = None
        self.calls = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TrytonClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- Session

    def version(self) -> str:
        """The server's series (``common.server.version``); needs no login."""
        return self._post("/rpc/", "common.server.version", [])

    def login(self) -> int:
        """Open a session; returns the user id. A refused login is permanent."""
        path = f"/{self.database}/rpc/"
        try:
            answer = self._post(path, "common.db.login", [self.login_name, {"password": self.password}, "en"])
        except _Status as status:
            if status.code == 401:
                raise PermanentError(
                    f"Tryton refused the login of user {self.login_name!r} on database {self.database!r}: "
                    "check the login and password."
                ) from None
            raise status.error() from None
        self.session = (int(answer[0]), str(answer[1]))
        self._context = None
        return self.session[0]

    def logout(self) -> None:
        """End the session on the server (``common.db.logout``)."""
        if self.session is not None:
            self.call("common.db.logout")
            self.session = None

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header of the current session, if any."""
        if self.session is None:
            return None
        user_id, key = self.session
        token = base64.b64encode(f"{self.login_name}:{user_id}:{key}".encode()).decode()
        return f"Session {token}"

    def refresh_context(self) -> None:
        """Forget the cached context (after changing the user's company, say)."""
        self._context = None

    @property
    def context(self) -> dict[str, Any]:
        """The user's context (language, company, …) from ``get_preferences``, plus our extras."""
        if self._context is None:
            preferences = self.call("model.res.user.get_preferences", True, {})
            self._context = {**preferences, **self.extra_context}
        return self._context

    # --- Calls

    def call(self, method: str, *params: Any) -> Any:
        """Call ``method`` on the database with positional ``params``; logs in first and again once on 401."""
        if self.session is None:
            self.login()
        path = f"/{self.database}/rpc/"
        try:
            return self._post(path, method, list(params))
        except _Status as status:
            if status.code != 401:
                raise status.error() from None
        self.login()  # the session expired or was ended: one new session, one more try
        try:
            return self._post(path, method, list(params))
        except _Status as status:
            if status.code == 401:
                raise PermanentError(f"Tryton refused a fresh session for {method}.") from None
            raise status.error() from None

    def model(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None) -> Any:
        """``model.<model>.<method>(*args, context)`` with the user's context (and ``context`` on top)."""
        return self.call(f"model.{model}.{method}", *args, {**self.context, **(context or {})})

    def search_read(
        self,
        model: str,
        domain: list,
        fields: list[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: list | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return self.model(model, "search_read", domain, offset, limit, order, fields, context=context)

    def create(self, model: str, values: list[dict[str, Any]], context: dict[str, Any] | None = None) -> list[int]:
        return self.model(model, "create", values, context=context)

    def write(self, model: str, *pairs: Any, context: dict[str, Any] | None = None) -> None:
        """``write(ids, values, ids, values, …)``: several updates in one call."""
        self.model(model, "write", *pairs, context=context)

    def _post(self, path: str, method: str, params: list) -> Any:
        body = json.dumps({"id": self.calls + 1, "method": method, "params": params}, default=encode)
        headers = {"Authorization": self.authorization} if self.authorization and path != "/rpc/" else {}
        self.calls += 1
        try:
            response = self.http.post(f"{self.url}{path}", content=body, headers=headers)
        except httpx.TimeoutException:
            raise TrytonUnavailable(
                f"Tryton at {self.url} did not answer {method} within {self.timeout:g} s."
            ) from None
        except httpx.TransportError as exc:
            raise TrytonUnavailable(f"Could not connect to Tryton at {self.url}: {exc}") from None
        if response.status_code != 200:
            raise _Status(response, method)
        try:
            answer = json.loads(response.text, object_hook=decode)
        except ValueError:
            raise TrytonUnavailable(f"Tryton answered {method} with malformed JSON: {_trim(response.text)}") from None
        if "error" in answer:
            raise error_from_answer(method, answer["error"])
        return answer.get("result")


class _Status(Exception):  # an internal signal: it never leaves this module
    """A non-200 answer; :meth:`error` maps it to the adapter error."""

    def __init__(self, response: httpx.Response, method: str):
        super().__init__(response.status_code)
        self.code, self.method = response.status_code, method
        self.text = _trim(response.text)
        self.retry_after = response.headers.get("Retry-After")

    def error(self) -> Exception:
        code, method = self.code, self.method
        if code == 403:
            return PermanentError(f"Tryton: method not allowed for this user ({method}).")
        if code == 404:
            return PermanentError(f"Tryton has no such database or path for {method} (HTTP 404).")
        if code == 429:
            wait = float(self.retry_after) if (self.retry_after or "").isdigit() else None
            return TrytonUnavailable(f"Tryton asks to slow down (HTTP 429) on {method}.", retry_after=wait)
        if code >= 500 or code in (408, 423):
            return TrytonUnavailable(f"HTTP {code} from Tryton on {method}: {self.text}")
        return PermanentError(f"HTTP {code} from Tryton on {method}: {self.text}")
