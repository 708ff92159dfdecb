"""The network a request comes from, for rate limits and sign-in throttling; never kept as an address.

A network is an IPv4 /24 or an IPv6 /48 (an IPv4-mapped IPv6 address counts as IPv4): a household, school,
office or phone network shares one budget, and an address cannot dodge a limit by moving within it. IPv6 is
taken at /48, the usual allocation to one site, because a site gets 65,536 /64s: at /64 one subscriber could
open as many networks as it liked. The text returned is only ever turned into a keyed HMAC at once (web chat's
``NetworkTags``, sign-in's ``Pseudonymizer.sign_in``); it is not logged or stored.
"""

from __future__ import annotations

import ipaddress

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


def forwarded_address(forwarded_for: str, trusted_proxy_hops: int) -> str | None:
    """The client's address as our own ``trusted_proxy_hops`` proxies recorded it in X-Forwarded-For.

    Only the entries our proxies appended are believed: the one ``trusted_proxy_hops`` from the end. None
    when the header holds fewer entries than that (the request did not pass through all of our proxies).
    """
    forwarded = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if trusted_proxy_hops <= 0 or len(forwarded) < trusted_proxy_hops:
        return None
    return forwarded[-trusted_proxy_hops]
