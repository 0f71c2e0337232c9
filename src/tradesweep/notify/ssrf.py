"""The SSRF guard: a webhook may only reach a public address, and we connect to the address
we checked.

A tenant chooses its webhook URL, so without a guard a job could make the service POST to
``http://169.254.169.254/`` (cloud metadata), ``http://127.0.0.1:5432/`` or a host on the
private network. :func:`resolve_destination` parses the URL, resolves the host once, refuses
it unless **every** address is public, and returns a :class:`Destination` carrying the checked
address; the transport then connects to that address (no second lookup a DNS rebinding
attacker could answer differently).

``allow_private=True`` (``TRADESWEEP_WEBHOOK_ALLOW_PRIVATE=1``, off by default) lets loopback
and private receivers through, for local development and the tests. Cloud metadata addresses,
link-local, unspecified (``0.0.0.0``, ``::``), multicast and reserved addresses are refused
even then.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from tradesweep.errors import TradesweepError

ALLOW_PRIVATE_ENV = "TRADESWEEP_WEBHOOK_ALLOW_PRIVATE"
SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port) -> addresses``: the DNS step, replaceable in tests."""

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d form
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


class UnsafeWebhookURL(TradesweepError):
    """A webhook URL the SSRF guard refuses: bad scheme or form, or a non-public address.

    ``reason`` is safe to show the tenant (it never names the addresses a host resolved to);
    the addresses go to the logs only.
    """

    code = "unsafe_webhook_url"

    def __init__(self, reason: str, *, url: str, fix: str | None = None) -> None:
        self.reason = reason
        super().__init__(f"webhook URL refused: {reason}", fix=fix, field="webhook_url")
        self.url = url


@dataclass(frozen=True)
class Destination:
    """A checked webhook target: connect to ``address``, say ``host`` in Host and SNI."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, lowercase, without brackets
    port: int
    address: str  # the public (or allowed) IP the guard approved


def allow_private_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``TRADESWEEP_WEBHOOK_ALLOW_PRIVATE`` is 1/true/yes/on."""
    value = (environ if environ is not None else os.environ).get(ALLOW_PRIVATE_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA), via ``socket.getaddrinfo``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def validate_webhook_url(url: str, *, allow_private: bool = False) -> httpx.URL:
    """Check a URL's form without resolving it (what an API can do when a job is submitted):
    http/https, a host, no credentials, no ambiguous numeric host, and an IP literal must be
    allowed. Raises :class:`UnsafeWebhookURL`; returns the parsed URL."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookURL(f"longer than {MAX_URL_LENGTH} characters", url=url)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UnsafeWebhookURL(f"not a valid URL ({exc})", url=url) from None
    if parsed.scheme not in SCHEMES:
        raise UnsafeWebhookURL(
            f"scheme {parsed.scheme or '(none)'!r} is not http or https",
            url=url,
            fix="use an http:// or https:// URL",
        )
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise UnsafeWebhookURL("no host", url=url, fix="e.g. https://hooks.example.com/path")
    if parsed.userinfo:
        raise UnsafeWebhookURL(
            "credentials in the URL are not supported",
            url=url,
            fix="verify our signature instead (docs/webhooks.md)",
        )
    literal = _ip_literal(host)
    if literal is None and _NUMERIC_LABEL.match(host.rstrip(".").rsplit(".", 1)[-1]):
        # 2130706433, 0x7f.1, 017700000001, 127.1: all 127.0.0.1 to inet_aton. Refused outright.
        raise UnsafeWebhookURL(
            "host is a non-canonical IP address form",
            url=url,
            fix="write an IPv4 address as four decimal numbers, or use a host name",
        )
    if literal is not None:
        problem = address_problem(literal, allow_private=allow_private)
        if problem:
            raise UnsafeWebhookURL(f"address is {problem}", url=url, fix=_PUBLIC_FIX)
    return parsed


def resolve_destination(
    url: str, *, allow_private: bool = False, resolver: Resolver = system_resolver
) -> Destination:
    """Validate ``url``, resolve its host and approve one address to connect to.

    Refuses (:class:`UnsafeWebhookURL`) unless every address the host resolves to passes
    :func:`address_problem`; a host with one public and one private address is refused.
    """
    parsed = validate_webhook_url(url, allow_private=allow_private)
    host = parsed.raw_host.decode("ascii").lower()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = _ip_literal(host)
    if literal is not None:
        return Destination(url, parsed.scheme, host, port, str(literal))
    try:
        resolved = list(resolver(host, port))
    except (OSError, UnicodeError) as exc:
        raise UnsafeWebhookURL(f"host {host!r} does not resolve ({exc})", url=url) from None
    if not resolved:
        raise UnsafeWebhookURL(f"host {host!r} does not resolve", url=url)
    addresses = []
    for raw in resolved:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            raise UnsafeWebhookURL(f"host {host!r} resolves to a non-IP answer", url=url) from None
        problem = address_problem(address, allow_private=allow_private)
        if problem:
            raise UnsafeWebhookURL(
                f"host {host!r} resolves to an address that is {problem}", url=url, fix=_PUBLIC_FIX
            )
        addresses.append(address)
    return Destination(url, parsed.scheme, host, port, str(addresses[0]))


def address_problem(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why ``address`` may not receive a webhook (e.g. ``"loopback"``), or None when it may.

    IPv6 forms that embed an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
    ``::a.b.c.d``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo) are judged by the IPv4
    address inside as well as by themselves.
    """
    for candidate in (*_embedded_ipv4(address), address):
        problem = _problem(candidate, allow_private=allow_private)
        if problem:
            return problem
    return None


_PUBLIC_FIX = (
    "use a publicly reachable receiver; for a local receiver in development set "
    f"{ALLOW_PRIVATE_ENV}=1"
)


def _problem(address: IPAddress, *, allow_private: bool) -> str | None:
    # Refused whatever allow_private says: never a legitimate receiver.
    if address in METADATA_ADDRESSES:
        return "a cloud metadata endpoint"
    if address.is_unspecified:
        return "unspecified (0.0.0.0/8 or ::)"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _THIS_NETWORK:
            return "unspecified (0.0.0.0/8 or ::)"
        if address.is_reserved or address == _BROADCAST:
            return "reserved"
    else:
        if address.is_site_local:
            return "site-local"
        if address in _IPV4_COMPATIBLE and int(address) > 1:
            return "a deprecated IPv4-compatible IPv6 address"
    # Refused unless allow_private (local development and tests).
    if address.is_loopback:
        return None if allow_private else "loopback"
    if address.is_private:
        return None if allow_private else "private"
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    compatible = address in _IPV4_COMPATIBLE and int(address) > 1  # not :: or ::1
    if address in _NAT64 or address in _NAT64_LOCAL or compatible:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
