"""The fetch server reaches no private address by default: not by name, IP form or redirect."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pytest
from mcp import Client

from covey.servers._common import ToolError
from covey.servers._fetch_guard import (
    Fetcher,
    IPAddress,
    address_kind,
    parse_target,
    public_only,
    refusal,
    resolve,
)
from covey.servers.fetch import build_server

from .conftest import http_client_for, http_process, stdio_client_for
from .test_fetch import MODULE, Site, serve_site, site, text
from .test_malformed import assert_no_crash

__all__ = ["site"]  # the fixture, imported for the tests below

REFUSED = "refuses private addresses unless started with --allow-private"
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def _own_name() -> list[str]:
    """This machine's host name, if it resolves to a non-public address here."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except OSError:
        print(f"host name {name!r} does not resolve; not testing it")
        return []
    if all(ipaddress.ip_address(str(info[4][0])).is_global for info in found):
        print(f"host name {name!r} resolves to public addresses; not testing it")
        return []
    return [name]


def private_urls(port: int) -> list[str]:
    return [
        f"http://localhost:{port}/",
        f"http://LOCALHOST:{port}/",
        f"http://127.0.0.1:{port}/",
        f"https://127.0.0.1:{port}/",
        f"http://127.1:{port}/",
        f"http://[::1]:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://0.0.0.0:{port}/",
        f"http://0:{port}/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        f"http://2130706433:{port}/",
        f"http://0x7f.1:{port}/",
        f"http://0177.0.0.1:{port}/",
        f"http://0x7f000001:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://[::ffff:7f00:1]:{port}/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[::]/",
        *(f"http://{name}:{port}/" for name in _own_name()),
    ]


async def test_private_addresses_are_refused_and_never_contacted(
    site: Site, errlog: IO[str]
) -> None:
    port = int(site.url.rsplit(":", 1)[1])
    async with stdio_client_for(MODULE, errlog=errlog) as client:
        for url in private_urls(port):
            result = await client.call_tool("fetch", {"url": url})
            assert result.is_error and REFUSED in text(result), (url, text(result))
    assert site.requests == []
    assert_no_crash(errlog)


async def test_refusals_say_what_and_why() -> None:
    async with Client(build_server()) as client:
        ip = await client.call_tool("fetch", {"url": "http://127.0.0.1:9/"})
        name = await client.call_tool("fetch", {"url": "http://localhost/"})
        meta = await client.call_tool("fetch", {"url": "http://169.254.169.254/"})
        mapped = await client.call_tool("fetch", {"url": "http://[::ffff:10.1.2.3]/"})
    assert text(ip).endswith(
        "127.0.0.1 is a loopback address; covey's fetch server refuses private addresses "
        "unless started with --allow-private"
    )
    assert "localhost resolves to " in text(name) and "a loopback address" in text(name)
    assert "169.254.169.254 is a link-local address" in text(meta)
    assert "an IPv6 form of 10.1.2.3, a private address" in text(mapped)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "has scheme 'file'"),
        ("ftp://example.com/", "has scheme 'ftp'"),
        ("gopher://127.0.0.1:70/", "has scheme 'gopher'"),
        ("not a url", "is not a URL"),
        ("http://user:pass@example.com/", "user info"),
        ("http://example.com@127.0.0.1/", "user info"),
        ("http:///path", "has no host"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://exa mple.com/", "not allowed in a host name"),
        ("http://example.com/\x01", "control characters"),
        ("http://example.com/\r\nX-Injected: 1", "control characters"),
    ],
)
async def test_bad_urls_are_tool_errors(url: str, message: str) -> None:
    async with Client(build_server(allow_private=True)) as client:
        result = await client.call_tool("fetch", {"url": url})
    assert result.is_error and message in text(result), text(result)


def test_address_check_is_all_or_nothing() -> None:
    public = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("2606:4700::1")]
    assert refusal("example.com", public) is None
    mixed = [*public, ipaddress.ip_address("10.0.0.7")]
    message = refusal("evil.example", mixed)
    assert message is not None and message.startswith("evil.example resolves to 10.0.0.7")
    assert refusal("nothing.example", []) == "nothing.example resolves to no address"
    with pytest.raises(ToolError, match="a private address"):
        public_only("evil.example", mixed)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1", None),
        ("127.0.0.2", "a loopback address"),
        ("::1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("239.1.1.1", "a multicast address"),
        ("100.100.1.1", "a shared (carrier-grade NAT) address"),
        ("192.168.0.1", "a private address"),
        ("fd00::1", "a private address"),
        ("198.18.0.1", "a private address"),
        ("::ffff:127.0.0.1", "an IPv6 form of 127.0.0.1, a loopback address"),
        ("64:ff9b::a9fe:a9fe", "an IPv6 form of 169.254.169.254, a link-local address"),
        ("64:ff9b:1::1", "a local-use NAT64 address"),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


SITE = "site.test"
"""The test site's name: the only host let through to 127.0.0.1, so every other hop meets the
default policy."""


def site_only(host: str, addresses: Sequence[IPAddress]) -> None:
    """Lets the test site through and applies the default policy to every other host."""
    if host != SITE:
        public_only(host, addresses)


PINNED: dict[str, list[IPAddress]] = {
    SITE: [LOOPBACK],
    "loopback.test": [LOOPBACK, ipaddress.ip_address("::1")],
    "six.test": [ipaddress.ip_address("::1")],
}
"""Made-up names and what the test resolver answers for them; other hosts resolve for real."""


async def pin(host: str, port: int) -> list[IPAddress]:
    """A resolver that knows the made-up names in `PINNED` and resolves the rest as usual."""
    return PINNED[host] if host in PINNED else await resolve(host, port)


def _via_site(site: Site, path: str = "/") -> str:
    return f"http://{SITE}:{site.url.rsplit(':', 1)[1]}{path}"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://localhost:{port}/article.html", r"localhost resolves to \S+, a loopback address"),
        ("http://127.0.0.1:{port}/article.html", r"127\.0\.0\.1 is a loopback address"),
        (
            "http://loopback.test:{port}/article.html",
            r"loopback\.test resolves to 127\.0\.0\.1, a loopback address",
        ),
        ("http://six.test:{port}/article.html", r"six\.test resolves to ::1, a loopback address"),
        ("http://[::1]:{port}/article.html", r"::1 is a loopback address"),
        ("http://127.0.0.2:{other}/", r"127\.0\.0\.2 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", r"169\.254\.169\.254 is a link-local address"),
    ],
)
async def test_every_redirect_hop_is_checked(site: Site, location: str, message: str) -> None:
    port = site.url.rsplit(":", 1)[1]
    with serve_site("127.0.0.2") as other:
        target = location.format(port=port, other=other.url.rsplit(":", 1)[1])
        fetcher = Fetcher(policy=site_only, resolver=pin, timeout=10)
        with pytest.raises(ToolError, match=f"{message}; .*{REFUSED}"):
            await fetcher.fetch(_via_site(site, f"/to?{target}"))
        # Had the redirect been followed, the site (on 127.0.0.1) would have served it too.
        assert site.paths == [f"/to?{target}"] and other.requests == []


@pytest.mark.parametrize("host", ["loopback.test", "six.test", "localhost"])
async def test_a_name_resolving_to_loopback_is_refused(site: Site, host: str) -> None:
    # The default policy; made-up names resolve as the test says, localhost as the system does.
    port = site.url.rsplit(":", 1)[1]
    with pytest.raises(ToolError, match=rf"{host} resolves to \S+, a loopback address; "):
        await Fetcher(resolver=pin, timeout=10).fetch(f"http://{host}:{port}/article.html")
    assert site.requests == []


async def test_connection_goes_to_the_checked_address(site: Site) -> None:
    # 'site.test' exists only in the test's resolver: the request can only reach the site if
    # the client connects to the address that was checked instead of resolving the name again.
    port = site.url.rsplit(":", 1)[1]
    fetcher = Fetcher(policy=site_only, resolver=pin, timeout=10)
    fetched = await fetcher.fetch(_via_site(site, "/article.html"))
    assert b"Hello covey" in fetched.body
    assert site.requests == [("/article.html", f"site.test:{port}")]


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
    command += ["-addext", f"subjectAltName=DNS:{name}"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_https_sends_the_name_as_sni_and_verifies_the_certificate(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed; it makes this test's certificate")
    cert, key = _self_signed(tmp_path, "site.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: names.append(name)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(30)

        def handshake() -> None:
            connection, _ = listener.accept()
            try:
                with context.wrap_socket(connection, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refuses the self-signed certificate mid-handshake

        thread = threading.Thread(target=handshake, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        fetcher = Fetcher(policy=site_only, resolver=pin, timeout=10)
        with pytest.raises(ToolError, match="certificate verify failed"):
            await fetcher.fetch(f"https://site.test:{port}/")
        thread.join(30)
    # The connection went to 127.0.0.1, but TLS named (and would verify) the host asked for.
    assert names == ["site.test"]


def test_parse_target_keeps_host_and_path_apart() -> None:
    target = parse_target("HTTP://Example.COM:8080//evil.example/a?b=1#frag")
    assert (target.scheme, target.host, target.port) == ("http", "example.com", 8080)
    assert target.path == "//evil.example/a?b=1" and target.host_header == "example.com:8080"
    assert parse_target("https://[::1]/").host_header == "[::1]"
    assert parse_target("https://b\u00fccher.example/").host == "xn--bcher-kva.example"


async def test_default_mode_over_http_refuses_the_site(site: Site) -> None:
    async with http_process(MODULE) as url:
        async with http_client_for(url) as client:
            result = await client.call_tool("fetch", {"url": f"{site.url}/article.html"})
    assert result.is_error and REFUSED in text(result)
    assert site.requests == []
