"""Which addresses a webhook may reach (SSRF): public ones only. Used twice: when an
endpoint is registered (a host written as an address, app/webhooks/checks.py) and at
every delivery (each address the name resolves to, app/webhooks/delivery.py)."""

from __future__ import annotations

import ipaddress
import socket


def names_private_host(hostname: str) -> bool:
    """Whether ``hostname`` is localhost or spells an address that is not public."""
    name = hostname.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _written_address(name)
    # A name, not an address, is checked each time it is resolved, at delivery.
    return address is not None and not is_public_address(address)


def _written_address(host: str) -> str | None:
    """The IP address ``host`` spells, if it spells one: besides the usual forms, the
    IPv4 spellings resolvers still accept (``2130706433``, ``0x7f000001``, ``127.1``,
    ``0177.0.0.1``), which ``ipaddress`` does not."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


#: IPv6 ranges that carry an IPv4 address in their last 32 bits: IPv4-compatible
#: (``::a.b.c.d``) and NAT64's well-known prefix, which reaches that IPv4 host.
_EMBEDDING_IPV4 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))


def is_public_address(address: str) -> bool:
    """Whether an IP address is a public one (not loopback, private, link-local,
    multicast, reserved or unspecified), looking through IPv6 forms that embed an
    IPv4 address (mapped, 6to4, NAT64, IPv4-compatible); ValueError when ``address``
    is not an address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
