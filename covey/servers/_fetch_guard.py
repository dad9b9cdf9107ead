"""The fetch server's network guard: which addresses it may reach, and a fetcher that obeys it.

Every hop (the first URL and each redirect) is parsed, its host resolved, and every
resolved address checked before anything connects; the connection then goes to a checked
address, with the `Host` header and TLS server name set to the original host, so a DNS
answer that changes between the check and the connection cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2

from ._common import ToolError

__all__ = [
    "PRIVATE_REFUSAL",
    "Fetched",
    "Fetcher",
    "IPAddress",
    "Policy",
    "Resolver",
    "Target",
    "address_kind",
    "allow_all",
    "parse_target",
    "public_only",
    "refusal",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""Resolves (host, port) to addresses; raises `ToolError` when the name does not resolve."""
Policy = Callable[[str, Sequence[IPAddress]], None]
"""Raises `ToolError` when any of a host's resolved addresses may not be contacted."""

PRIVATE_REFUSAL = (
    "covey's fetch server refuses private addresses unless started with --allow-private"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_kind(address: IPAddress) -> str | None:
    """Why `address` is not a public internet address ('a loopback address'), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_kind(embedded)
            return f"an IPv6 form of {embedded}, {inner}" if inner else None
        if address in _NAT64_LOCAL:
            return "a local-use NAT64 address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in _SHARED, "a shared (carrier-grade NAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "a non-global address"),
    )
    return next((kind for failed, kind in checks if failed), None)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def refusal(host: str, addresses: Sequence[IPAddress]) -> str | None:
    """The refusal message if any of the addresses `host` resolved to is not public, else None."""
    if not addresses:
        return f"{host} resolves to no address"
    for address in addresses:
        kind = address_kind(address)
        if kind is None:
            continue
        if _literal(host) == address:
            return f"{address} is {kind}; {PRIVATE_REFUSAL}"
        return f"{host} resolves to {address}, {kind}; {PRIVATE_REFUSAL}"
    return None


def public_only(host: str, addresses: Sequence[IPAddress]) -> None:
    """The default policy: every address must be public."""
    message = refusal(host, addresses)
    if message is not None:
        raise ToolError(message)


def allow_all(host: str, addresses: Sequence[IPAddress]) -> None:
    """The `--allow-private` policy: any address that resolves may be contacted."""
    if not addresses:
        raise ToolError(f"{host} resolves to no address")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal resolves to itself, in any form)."""
    try:
        found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        shown = host if len(host) <= 100 else host[:100] + "..."
        raise ToolError(f"Could not resolve {shown!r}: {exc}. Check the URL's host name.") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(kw_only=True, slots=True, frozen=True)
class Target:
    """Where one request goes, as parsed from its URL."""

    url: str
    scheme: str
    host: str
    """ASCII (IDNA) host name or IP literal, without brackets."""
    port: int
    path: str
    """Path and query, at least '/'."""

    @property
    def host_header(self) -> str:
        """The `Host` header: the host, bracketed if IPv6, with the port unless the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _bad_url(url: str, problem: str) -> ToolError:
    shown = url if len(url) <= 100 else url[:100] + "..."
    return ToolError(
        f"Bad argument 'url': {shown!r} {problem}. Give a full http(s) URL such as "
        "'https://example.com/page'."
    )


def parse_target(url: str) -> Target:
    """Parse an http(s) URL; refuse other schemes, user info and malformed hosts or ports."""
    url = url.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in url):
        raise _bad_url(url, "contains control characters; percent-encode them")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad_url(url, f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        problem = f"has scheme {scheme!r}" if scheme else "is not a URL"
        raise _bad_url(url, f"{problem}; only http and https URLs can be fetched")
    if "@" in parts.netloc:
        raise _bad_url(url, "contains user info (user:password@); it is refused")
    host = parts.hostname or ""
    if not host:
        raise _bad_url(url, "has no host")
    if any(char in host for char in "/\\ %\t\r\n\x00"):
        raise _bad_url(url, "has characters not allowed in a host name")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise _bad_url(url, "has a host name that is not valid IDNA") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        url=url,
        scheme=scheme,
        host=host,
        port=port if port is not None else (443 if scheme == "https" else 80),
        path=path,
    )


@dataclass(kw_only=True, slots=True, frozen=True)
class Fetched:
    """A downloaded response body, at most `max_bytes` of it."""

    url: str
    """The final URL, after redirects."""
    content_type: str
    body: bytes
    truncated: bool
    """The body was longer than the download limit and was cut there."""


class Fetcher:
    """GETs URLs through a `Policy`, checking every redirect hop, within size and time limits."""

    def __init__(
        self,
        *,
        policy: Policy = public_only,
        resolver: Resolver = resolve,
        max_bytes: int = 5_000_000,
        timeout: float = 30.0,
        max_redirects: int = 5,
        user_agent: str = "covey-fetch",
    ) -> None:
        """A fetcher; the defaults refuse non-public addresses."""
        self.policy = policy
        self.resolver = resolver
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.user_agent = user_agent

    async def fetch(self, url: str) -> Fetched:
        """Download `url`, following up to `max_redirects` redirects, each one checked.

        Raises:
            ToolError: The URL is refused, unreachable, too slow, or answers an HTTP error.
        """
        limits = httpx2.Limits(max_keepalive_connections=0)
        timeout = httpx2.Timeout(self.timeout)
        async with httpx2.AsyncClient(
            trust_env=False, follow_redirects=False, timeout=timeout, limits=limits
        ) as client:
            try:
                with anyio.fail_after(self.timeout):
                    return await self._follow(client, url)
            except TimeoutError:
                raise ToolError(
                    f"Fetching {url} took longer than {self.timeout:g} s (the server's --timeout)"
                    "; try again later or another URL."
                ) from None

    async def _follow(self, client: httpx2.AsyncClient, url: str) -> Fetched:
        for _hop in range(self.max_redirects + 1):
            result = await self._hop(client, parse_target(url))
            if isinstance(result, Fetched):
                return result
            url = result
        raise ToolError(f"{url} redirected more than {self.max_redirects} times; not following")

    async def _hop(self, client: httpx2.AsyncClient, target: Target) -> Fetched | str:
        """Fetch one URL from a checked address: the result, or the next URL to follow."""
        addresses = await self.resolver(target.host, target.port)
        self.policy(target.host, addresses)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._request(client, target, address)
            except httpx2.ConnectError as exc:
                error = exc
            except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
                detail = str(exc) or type(exc).__name__
                raise ToolError(f"Could not fetch {target.url}: {detail}") from None
        raise ToolError(f"Could not connect to {target.url}: {error}")

    async def _request(
        self, client: httpx2.AsyncClient, target: Target, address: IPAddress
    ) -> Fetched | str:
        literal = f"[{address}]" if address.version == 6 else str(address)
        headers = {
            "Host": target.host_header,
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,text/*;q=0.9,*/*;q=0.5",
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = client.build_request(
            "GET",
            f"{target.scheme}://{literal}:{target.port}{target.path}",
            headers=headers,
            extensions=extensions,
        )
        response = await client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                return urljoin(target.url, location)
            if response.status_code >= 400:
                raise ToolError(
                    f"Failed to fetch {target.url}: HTTP {response.status_code} "
                    f"{response.reason_phrase}".rstrip()
                )
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    del body[self.max_bytes :]
                    truncated = True
                    break
            content_type = response.headers.get("content-type", "")
            return Fetched(
                url=target.url, content_type=content_type, body=bytes(body), truncated=truncated
            )
        finally:
            await response.aclose()
