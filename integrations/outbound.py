"""Where connectors may connect to: one outbound destination policy for every adapter.

Connectors exist to reach systems on company networks, so private addresses
(10/8, 172.16/12, 192.168/16, loopback, fc00::/7) are allowed. What is never
allowed, whatever the settings say, are addresses no integration peer can
legitimately have: link-local ones (169.254.0.0/16, where cloud metadata
services answer with the server's own credentials, and fe80::/10), 0.0.0.0/8
(Linux connects it to the local host), multicast, reserved ranges, and the
metadata addresses some clouds put elsewhere. An IPv4 address hidden inside
an IPv6 one (``::ffff:169.254.169.254``, NAT64, 6to4, Teredo) is judged as the
IPv4 address, and hosts are judged by the address they resolve to, so decimal,
octal and hex spellings (``2852039166``, ``0251.0376.0251.0376``) get no further.

On top of that, ``settings.JUNCTION_OUTBOUND_ALLOWLIST`` (host names,
``*.domain`` wildcards, networks in CIDR form) restricts destinations to the
listed ones; empty allows every destination that is not forbidden.

The policy is enforced twice:

- when a connector is saved: :class:`UrlField` and :func:`validate_host` give
  the URL or host setting a field-level error;
- when a connection is opened, after DNS resolution: :func:`http_client`
  (httpx) and :func:`connect_tcp` (raw sockets, e.g. SFTP) resolve the host,
  check every address, connect only to a checked address and check the peer
  actually connected to, so a DNS answer that changes between save and run
  (DNS rebinding) is caught. The SQL adapter checks before the driver connects
  and checks the connected peer after (``adapters/sql/dialects.py``).

A refusal is :class:`DestinationRefused`, a permanent adapter error: the run
fails or its records are quarantined with the message, never retried.

httpx's request log lines name query parameters without their values (an API
key may travel in the query string).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from functools import lru_cache

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from integrations.adapters.errors import DestinationRefused

__all__ = [
    "AT_CONNECT",
    "DestinationRefused",
    "UrlField",
    "check_peer",
    "checked_addresses",
    "connect_tcp",
    "http_client",
    "http_transport",
    "save_time_problem",
    "validate_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SETTING = "JUNCTION_OUTBOUND_ALLOWLIST"
# Serializer context while an adapter is opened (adapters.base.validate): no save-time check then.
AT_CONNECT = "outbound_at_connect"

# Never a legitimate integration peer, whatever the allowlist says.
FORBIDDEN: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (ipaddress.ip_network(net), why)
    for net, why in (
        ("0.0.0.0/8", "a “this network” address (0.0.0.0/8)"),
        ("169.254.0.0/16", "a link-local address"),
        ("100.100.100.200/32", "a cloud metadata service address"),  # Alibaba Cloud
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),  # 255.255.255.255 included
        ("::/128", "the unspecified address"),
        ("fe80::/10", "a link-local address"),
        ("fd00:ec2::254/128", "a cloud metadata service address"),  # AWS over IPv6
        ("ff00::/8", "a multicast address"),
    )
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")
HOST_NAME = re.compile(
    r"(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*"
)


# --- The allowlist ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    domains: tuple[str, ...]  # ".example.com" for "*.example.com"
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def __bool__(self) -> bool:
        return bool(self.hosts or self.domains or self.networks)

    def names(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or host.endswith(self.domains)

    def holds(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def allowlist() -> Allowlist:
    """The parsed ``JUNCTION_OUTBOUND_ALLOWLIST``; ImproperlyConfigured names an entry it cannot read."""
    return _parse(tuple(getattr(settings, SETTING, None) or ()))


@lru_cache(maxsize=8)
def _parse(entries: tuple[str, ...]) -> Allowlist:
    hosts, domains, networks = set(), [], []
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.replace("[", "").replace("]", ""), strict=False))
            continue
        except ValueError:
            pass
        if entry.startswith("*.") and HOST_NAME.fullmatch(entry[2:]):
            domains.append(entry[1:])
        elif HOST_NAME.fullmatch(entry):
            hosts.add(entry)
        else:
            raise ImproperlyConfigured(
                f"{SETTING}: {raw!r} is not a host name, a *.domain wildcard or a network such as 10.0.0.0/8."
            )
    return Allowlist(frozenset(hosts), tuple(domains), tuple(networks))


# --- Judging addresses --------------------------------------------------------------------------


def effective(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), else itself."""
    if address.version == 4:
        return address
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64 or (int(address) < 2**32 and int(address) > 1):  # NAT64 or IPv4-compatible (::a.b.c.d)
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]  # the client's address
    return address


def forbidden(address: IPAddress) -> str | None:
    """Why no connector may reach ``address`` (e.g. "a link-local address"), or None."""
    for candidate in dict.fromkeys((address, effective(address))):
        for network, why in FORBIDDEN:
            if candidate.version == network.version and candidate in network:
                return why
    return None


def refusal(host: str, addresses: list[IPAddress], *, resolved: bool = True) -> str | None:
    """The reason ``host`` (resolving to ``addresses``) may not be reached, or None.

    ``resolved=False``: the addresses are unknown (a name that did not resolve at save time),
    so only the allowlist's names can allow the host.
    """
    for address in addresses:
        if why := forbidden(address):
            return f"{_naming(host, address)} {why}; connectors may not reach it."
    rules = allowlist()
    if not rules or rules.names(host):
        return None
    if resolved and addresses and all(rules.holds(effective(a)) or rules.holds(a) for a in addresses):
        return None
    return f"Host {host} is not in the outbound allowlist ({SETTING})."


def _naming(host: str, address: IPAddress) -> str:
    """The start of a refusal: "169.254.169.254 is", "0xa9fea9fe is 169.254.169.254,", "x resolves to …,"."""
    shown = effective(address)  # ::ffff:169.254.169.254 is named by the IPv4 address it carries
    if _bare(host).lower() == str(shown):
        return f"{shown} is"
    verb = "is" if _literal(host) is not None else "resolves to"
    return f"{host} {verb} {shown},"


def _bare(host: str) -> str:
    return host.strip("[]").split("%")[0]


def _literal(host: str) -> IPAddress | None:
    """The address ``host`` spells (in any form the resolver accepts: 10.1, 0x0a000001, [::1]), or None."""
    try:
        infos = socket.getaddrinfo(_bare(host), None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return None
    return ipaddress.ip_address(infos[0][4][0].split("%")[0])


def _resolve(host: str, port: int | None) -> list[tuple[IPAddress, tuple]]:
    """(address, sockaddr) for each address of ``host``; socket.gaierror when it does not resolve."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    found = {}
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            found.setdefault(ipaddress.ip_address(sockaddr[0].split("%")[0]), (family, sockaddr))
    return [(address, target) for address, target in found.items()]


# --- At save time -------------------------------------------------------------------------------


def save_time_problem(host: str) -> str | None:
    """Why a connector may not be saved with ``host``, or None.

    A literal address is judged as it is; a name is resolved now, and judged by
    its addresses when it resolves. A name that does not resolve here is let
    through (it is checked again at every connection) unless an allowlist is set
    that does not name it.
    """
    if not host:
        return None
    if (literal := _literal(host)) is not None:
        return refusal(host, [literal])
    try:
        addresses = [address for address, _ in _resolve(host, None)]
    except (socket.gaierror, UnicodeError):
        return refusal(host, [], resolved=False)
    return refusal(host, addresses)


def validate_host(value: str, field=None) -> str:
    """DRF validator for a host setting (SQL, SFTP): the outbound policy as a field-level error.

    ``field`` (a field or serializer) brings the context: when an adapter is opened
    (``AT_CONNECT``), the check is left to the connection, so a destination refused
    since it was saved fails where a refusal is handled, as a permanent error.
    """
    if field is not None and field.context.get(AT_CONNECT):
        return value
    if problem := save_time_problem(value):
        raise serializers.ValidationError(problem)
    return value


validate_host.requires_context = True  # DRF passes the field


class UrlField(serializers.CharField):
    """An http(s) URL a connector will send requests to: single-label hosts (http://erp:8000) welcome,
    destinations the outbound policy forbids refused with a field-level error."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value:
            return value
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise serializers.ValidationError(f"Not a valid URL: {exc}") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise serializers.ValidationError("Use an http:// or https:// URL.")
        validate_host(url.host, self)
        return value


# --- At request time ----------------------------------------------------------------------------


def checked_addresses(host: str, port: int | None) -> list[tuple[IPAddress, tuple]]:
    """``host``'s addresses as (address, (family, sockaddr)), after checking every one.

    Raises DestinationRefused when any address is forbidden or outside the
    allowlist, socket.gaierror when the host does not resolve.
    """
    found = _resolve(host, port)
    if problem := refusal(host, [address for address, _ in found]):
        raise DestinationRefused(problem)
    return found


def check_peer(host: str, peer: str) -> None:
    """Check the address a connection actually reached (``getpeername()``); DestinationRefused if forbidden."""
    address = ipaddress.ip_address(peer.split("%")[0])
    if problem := refusal(host, [address]):
        raise DestinationRefused(f"Connected to {address} for {host}, but: {problem}")


def connect_tcp(host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to ``host``:``port`` through the outbound policy (for SFTP and other raw sockets)."""
    last: OSError | None = None
    for _, (family, sockaddr) in checked_addresses(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            check_peer(host, sock.getpeername()[0])
        except OSError as exc:
            sock.close()
            last = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise last or OSError(f"{host} has no address to connect to")


class _CheckedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to checked addresses (redirects and new connections too)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = checked_addresses(host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"{host}: {exc.strerror or exc}") from exc
        last: Exception | None = None
        for address, _ in addresses:
            try:
                stream = super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            peer = stream.get_extra_info("server_addr")
            try:
                check_peer(host, peer[0])
            except BaseException:
                stream.close()
                raise
            return stream
        raise last or httpcore.ConnectError(f"{host} has no address to connect to")


class _QueryNamesOnly(logging.Filter):
    """httpx logs every request's URL (INFO): keep the query's parameter names, never their values,
    since an API key may travel there (the REST adapter's "API key in the query string")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) and a.query for a in record.args):
            record.args = tuple(_names_only(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _names_only(url: httpx.URL) -> str:
    if not url.query:
        return str(url)
    return f"{url.copy_with(query=None)}?{'&'.join(f'{name}=…' for name in url.params)}"


logging.getLogger("httpx").addFilter(_QueryNamesOnly())


def http_transport(**kwargs) -> httpx.HTTPTransport:
    """An httpx transport whose every new connection goes through the outbound policy."""
    transport = httpx.HTTPTransport(**kwargs)
    # httpx builds its connection pool itself and has no parameter for the network
    # backend; test_outbound.py proves this still takes effect after an upgrade.
    transport._pool._network_backend = _CheckedBackend()
    return transport


def http_client(**kwargs) -> httpx.Client:
    """The httpx.Client every adapter uses: checked connections, no proxies from the environment.

    Proxy variables are ignored (``trust_env=False``): through a proxy, the
    policy would only see the proxy's address, not the destination's.
    """
    return httpx.Client(transport=http_transport(), trust_env=False, **kwargs)
