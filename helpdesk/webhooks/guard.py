"""SSRF guard for webhook URLs: only http(s) to public addresses, unless allow-listed.

The host is resolved and every address it resolves to is checked, at subscription time and again
at each delivery; the delivery then connects to the very address that was checked (no second DNS
lookup), so a DNS answer that changes in between (rebinding) cannot reach an internal service.
Refused: private, loopback, link-local, multicast, reserved, unspecified and other non-global
addresses, IPv4 and IPv6 alike. An IPv6 address that carries an IPv4 address (mapped, translated,
IPv4-compatible, NAT64, 6to4, Teredo) is judged by the IPv4 it carries, in one place
(`embedded_ipv4`), so `2002:7f00:1::1` or `64:ff9b::7f00:1` cannot reach 127.0.0.1. The setting
WEBHOOK_ALLOWED_NETWORKS lists hosts or networks that may be reached anyway (an internal relay).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..core.errors import ValidationError

MAX_URL = 500


class UnsafeUrl(ValidationError):
    code = "unsafe-url"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, never empty
    address: str  # the checked IP address to connect to

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _allow_list() -> tuple[set[str], list]:
    hosts, networks = set(), []
    for entry in current_app.config.get("WEBHOOK_ALLOWED_NETWORKS") or []:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry)
    return hosts, networks


# IPv6 prefixes whose addresses carry an IPv4 address, and where (bit offset from the left)
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")  # IPv4-mapped (RFC 4291)
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
_COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible, deprecated (RFC 4291)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # NAT64 well-known prefix (RFC 6052)
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # NAT64 local use (RFC 8215)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")  # 6to4 (RFC 3056): bits 16-48
_TEREDO = ipaddress.ip_network("2001::/32")  # Teredo (RFC 4380): server and obfuscated client


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(address.split("%", 1)[0])


def embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list:
    """Every IPv4 address an IPv6 address carries (none for plain IPv6 or for IPv4 itself)."""
    if ip.version == 4:
        return []
    value = int(ip)
    low32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in _MAPPED or ip in _TRANSLATED or ip in _NAT64:
        return [low32]
    if ip in _COMPATIBLE and value > 1:  # not :: (unspecified) nor ::1 (loopback)
        return [low32]
    if ip in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF)]
    if ip in _TEREDO:
        server, client = ip.teredo
        return [server, client]
    return []


def _public_ipv4(ip: ipaddress.IPv4Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def is_forbidden(address: str) -> bool:
    """True unless the address, and every IPv4 address it carries, is public."""
    ip = _ip(address)
    if ip.version == 4:
        return not _public_ipv4(ip)
    carried = embedded_ipv4(ip)
    if carried:
        # NAT64 (IPv6-only networks) and 6to4 are judged by the IPv4 they reach; IPv4-compatible
        # (deprecated) and Teredo (a tunnel through a relay) are never a webhook's address
        if ip in _COMPATIBLE or ip in _TEREDO:
            return True
        return not all(_public_ipv4(v4) for v4 in carried)
    return ip in _NAT64_LOCAL or not _public_ipv6(ip)


def _public_ipv6(ip: ipaddress.IPv6Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_site_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _allowed(host: str, address: str, hosts: set[str], networks: list) -> bool:
    if host in hosts:
        return True
    ip = _ip(address)
    candidates = [ip, *embedded_ipv4(ip)]
    return any(c in net for c in candidates for net in networks if c.version == net.version)


def parse_url(url: str) -> tuple[str, str, int, str]:
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise UnsafeUrl(_l("Give an http or https address of at most 500 characters."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(_l("This address is not valid."), field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl(_l("Only http and https addresses are accepted."), field="url")
    if parts.username or parts.password:
        raise UnsafeUrl(_l("Credentials in the address are not accepted."), field="url")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeUrl(_l("This address is not valid."), field="url")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """Parse, resolve and check; raise UnsafeUrl unless every address is allowed."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeUrl(_l("This host name could not be resolved."), field="url") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(_l("This host name could not be resolved."), field="url")
    hosts, networks = _allow_list()
    for address in addresses:
        if is_forbidden(address) and not _allowed(host, address, hosts, networks):
            raise UnsafeUrl(
                _l(
                    "This address points to a private, loopback or otherwise internal network "
                    "(%(address)s) and is refused."
                ),
                field="url",
                address=address,
            )
    return Target(scheme, host, port, path, addresses[0])
