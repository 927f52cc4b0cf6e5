"""Which addresses the checker may contact.

Whoever types a domain chooses the servers we connect to. Without
`allow_private`, only globally routable addresses are contacted, so the bot
cannot be used to probe its own network (loopback, RFC 1918, link-local and
cloud metadata addresses, ULA, and IPv4-mapped forms of any of them).
"""

from __future__ import annotations

import ipaddress


def is_global(address: str) -> bool:
    """True for a globally routable address; IPv4-mapped IPv6 is judged by its IPv4."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_global(str(mapped))
        if ip in _NAT64 or ip in _TRANSLATED:
            return is_global(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip in _COMPATIBLE or ip in _LOCAL_NAT64:
            return False
    return ip.is_global and not ip.is_multicast


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
# Never public, though Python's is_global says so for some of them:
_COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible, deprecated (RFC 4291)
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)


def allowed(addresses: list[str], allow_private: bool) -> list[str]:
    """The addresses we may contact, in their original order."""
    if allow_private:
        return list(addresses)
    return [a for a in addresses if is_global(a)]
