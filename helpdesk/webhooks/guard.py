"""SSRF guard for webhook URLs: only http(s) to public addresses, unless allow-listed.

The host is resolved and every address it resolves to is checked, at subscription time and again
at each delivery; the delivery then connects to the very address that was checked (no second DNS
lookup), so a DNS answer that changes in between (rebinding) cannot reach an internal service.
Refused: private, loopback, link-local, multicast, reserved, unspecified and other non-global
addresses, IPv4 and IPv6 alike, including IPv4-mapped IPv6 (::ffff:127.0.0.1). The setting
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


def is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _allowed(host: str, address: str, hosts: set[str], networks: list) -> bool:
    if host in hosts:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
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
