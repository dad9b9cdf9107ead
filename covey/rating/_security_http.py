"""Security checks for streamable HTTP servers: DNS rebinding (Host, Origin) and the token.

Each check sends an `initialize` request that a protected server must refuse: with a foreign
`Host`, with a foreign `Origin`, and (when the rater was given an `Authorization` header)
without that header. A 2xx answer is a finding.
"""

from __future__ import annotations

import httpx2

from ._context import DimensionDraft, RateContext

__all__ = ["check_http_security"]

_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "covey-rate", "version": "1"},
    },
}
_BASE = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
FOREIGN = "rebind.attacker.example"


async def _status(url: str, headers: dict[str, str], timeout: float) -> int | str:  # noqa: ASYNC109
    try:
        async with httpx2.AsyncClient(timeout=timeout) as http:
            response = await http.post(url, json=_INITIALIZE, headers=headers)
            return response.status_code
    except httpx2.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


async def check_http_security(ctx: RateContext, draft: DimensionDraft) -> None:
    """The three refusals; a server that accepts one gets a finding saying which."""
    target = ctx.conn.target
    if target.url is None:
        return
    auth = {k: v for k, v in target.headers.items() if k.lower() == "authorization"}
    cases = {
        "security.http.dns_rebinding.host": ({**_BASE, **auth, "Host": FOREIGN}, "Host"),
        "security.http.dns_rebinding.origin": (
            {**_BASE, **auth, "Origin": f"http://{FOREIGN}"},
            "Origin",
        ),
    }
    if auth:
        cases["security.http.token"] = (dict(_BASE), "no Authorization header")
    else:
        draft.notes.append("no Authorization header was given, so the token check did not run")
    for check, (headers, what) in cases.items():
        status = await _status(target.url, headers, ctx.options.call_timeout)
        if isinstance(status, int) and 200 <= status < 300:
            severity = "critical" if check == "security.http.token" else "high"
            draft.failed(
                check,
                severity,
                f"an initialize request with {_said(what)} was accepted",
                sent={k: v for k, v in headers.items() if k.lower() != "authorization"},
                received=f"HTTP {status}",
            )
        else:
            draft.passed(f"an initialize request with {_said(what)} was refused ({status})")


def _said(what: str) -> str:
    return what if what.startswith("no ") else f"a foreign {what} ({FOREIGN})"
