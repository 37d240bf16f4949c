"""Who the local page answers: requests whose Host is one of the addresses it is served on
(a DNS-rebinding page at evil.example, resolved to 127.0.0.1, sends `Host: evil.example`),
carrying the key the server made at start (a cookie, set by opening `/?key=…` once), and,
for a browser's POST, an Origin that is one of those addresses too.

The page acts as any person of the workspace against real deployment targets: reaching its
port is not enough to use it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

KEY_PARAM = "key"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def new_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class PageAccess:
    key: str = field(repr=False)
    # Host header values the page answers (host:port, as browsers send them).
    hosts: frozenset[str]
    # Cookies are per host, not per port: the port in the name keeps two local bots apart.
    cookie: str = "localslack_key"

    @classmethod
    def loopback(cls, *, port: int, key: str, names: Iterable[str] = ()) -> PageAccess:
        """The page on a loopback port: 127.0.0.1, localhost and [::1] (and `names`, such as
        the address it was bound to), with and without the port when it is HTTP's own 80."""
        every = {*LOOPBACK_NAMES, *(f"[{n}]" if ":" in n and "[" not in n else n for n in names)}
        hosts = {f"{name}:{port}" for name in every}
        if port == 80:
            hosts |= every
        return cls(key=key, hosts=frozenset(h.lower() for h in hosts), cookie=f"firebreak_{port}")

    def allows_host(self, host: str | None) -> bool:
        return host is not None and host.strip().lower() in self.hosts

    def allows_origin(self, origin: str | None) -> bool:
        """No Origin (curl, scripts) passes; a browser's must be this page's own."""
        if origin is None:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() in self.hosts

    def is_key(self, given: str | None) -> bool:
        # compare_digest: the time taken must not tell how much of the key matched.
        return given is not None and hmac.compare_digest(given.encode(), self.key.encode())

    def link(self, base_url: str) -> str:
        """The address that opens the page with its key (printed once at start)."""
        return f"{base_url.rstrip('/')}/?{KEY_PARAM}={self.key}"
