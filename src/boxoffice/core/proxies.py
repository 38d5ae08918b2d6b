"""The client's address behind reverse proxies: ``X-Forwarded-For`` is believed only from a peer in
``BOXOFFICE_TRUSTED_PROXIES`` (none by default).

Rate limits, the audit log and sessions use the client address. Believing the header from anyone
would let a client pick a new address per request; believing nobody behind a load balancer would put
every anonymous user in one budget. So the operator names the proxies. The header is read from the
right: the first address that is not a trusted proxy is the client.
"""

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, networks: Sequence[Network]) -> str:
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    client = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage: the last proxy we trust vouches for nothing before it
        client = hop
        if not _trusted(hop, networks):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = list(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.networks and scope.get("client"):
            forwarded = [v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
            if forwarded:
                host, port = scope["client"]
                header = ",".join(value.decode("latin-1") for value in forwarded)
                scope = {**scope, "client": (client_address(host, header, self.networks), port)}
        await self.app(scope, receive, send)
