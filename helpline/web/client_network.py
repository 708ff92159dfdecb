"""The network a console request comes from, for sign-in throttling; never kept as an address.

A network is an IPv4 /24 or an IPv6 /48 (an IPv4-mapped IPv6 address counts as IPv4): one household,
office or provider allocation shares one budget, and an address cannot dodge a limit by moving within it.
The text returned is only ever turned into a keyed HMAC (core/signin_limits.py); it is not logged or stored.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

UNKNOWN = "unknown"


def network_of(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to, as text; ``UNKNOWN`` if it cannot be read."""
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if isinstance(ip, ipaddress.IPv4Address) else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def request_network(request: web.Request, trusted_proxy_hops: int) -> str:
    """The client's network: from the connection, or from X-Forwarded-For as our own proxies wrote it."""
    if trusted_proxy_hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= trusted_proxy_hops:
            return network_of(forwarded[-trusted_proxy_hops])
        return UNKNOWN
    return network_of(request.remote or "")
