"""The span tree of a traced two-agent team, as exported to covey's store and over OTLP/HTTP.

One scenario runs in its own process (`traced_team.py`): a pipeline of two agents on the
scripted model, one with the calc server over stdio, one with the time server over HTTP.
Its spans go to a SQLite store and to a real OTLP/HTTP receiver served here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from covey.store import Store
from covey.tracing import SpanRecord, load_trace, recent_traces
from tests.tracing.traced_team import SECRET_KEY, SECRET_TOKEN, Server, loopback_socket

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Exported:
    store: list[SpanRecord]
    otlp: list[dict[str, Any]]
    traceparents: list[str]


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class Receiver:
    """An OTLP/HTTP trace receiver: POST /v1/traces with a protobuf body."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/v1/traces", self.traces, methods=["POST"])])

    async def traces(self, request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        for resource in message.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        {
                            "name": span.name,
                            "span_id": span.span_id.hex(),
                            "parent_id": span.parent_span_id.hex() or None,
                            "trace_id": span.trace_id.hex(),
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                        }
                    )
        body = ExportTraceServiceResponse().SerializeToString()
        return Response(body, media_type="application/x-protobuf")


async def _scenario(db: Path, contents: str = "on") -> Exported:
    receiver = Receiver()
    sock, port = loopback_socket()
    web = Server(receiver.app)
    url = f"sqlite:///{db}"
    async with anyio.create_task_group() as group:
        group.start_soon(web.serve, [sock])
        with anyio.fail_after(120):
            done = await anyio.run_process(
                [
                    sys.executable,
                    "-m",
                    "tests.tracing.traced_team",
                    url,
                    f"http://127.0.0.1:{port}",
                    contents,
                ],
                cwd=ROOT,
                env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
                check=False,
            )
        web.should_exit = True
    assert done.returncode == 0, done.stderr.decode()
    async with Store(url) as store:
        # Connecting to the servers makes traces of their own (`MCP send server/discover`).
        roots = [t.root for t in await recent_traces(store) if t.root.name.startswith("graph")]
        assert len(roots) == 1, roots
        spans = await load_trace(store, roots[0].trace_id)
    headers = json.loads(done.stdout.decode().strip().splitlines()[-1])["traceparents"]
    return Exported(store=spans, otlp=receiver.spans, traceparents=headers)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    yield anyio.run(_scenario, tmp_path_factory.mktemp("traces") / "covey.db")


@pytest.fixture(scope="module")
def exported_by_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    yield anyio.run(_scenario, tmp_path_factory.mktemp("plain") / "covey.db", "default")


def _tree(spans: list[SpanRecord]) -> list[str]:
    """The spans as indented names, children in start order."""
    children: dict[str | None, list[SpanRecord]] = {}
    for span in spans:
        children.setdefault(span.parent_id, []).append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_ns):
            lines.append("  " * depth + span.name)
            walk(span.span_id, depth + 1)

    walk(None, 0)
    return lines


def _one(spans: list[SpanRecord], name: str) -> SpanRecord:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def test_the_store_holds_one_tree_from_graph_to_mcp_request(exported: Exported) -> None:
    assert _tree(exported.store) == [
        "graph pipeline",
        "  superstep 0",
        "    node researcher",
        "      invoke_agent researcher",
        "        MCP send tools/list",
        "        chat scripted",
        "        execute_tool calculate",
        "          MCP send tools/call calculate",
        "        chat scripted",
        "  superstep 1",
        "    node writer",
        "      invoke_agent writer",
        "        MCP send tools/list",
        # the time server runs in the traced process, so its server spans join the trace
        "          tools/list",
        "        chat scripted",
        "        execute_tool get_current_time",
        "          MCP send tools/call get_current_time",
        "            tools/call get_current_time",
        "        chat scripted",
    ]


def _children(spans: list[SpanRecord], parent: SpanRecord, name: str) -> list[SpanRecord]:
    found = [s for s in spans if s.parent_id == parent.span_id and s.name == name]
    return sorted(found, key=lambda s: s.start_ns)


@pytest.mark.parametrize(
    ("agent", "usages", "finish"),
    [
        ("researcher", [(20, 7), (30, 5)], ["tool_calls", "stop"]),
        ("writer", [(40, 8), (50, 6)], ["tool_calls", "stop"]),
    ],
)
def test_model_calls_carry_genai_attributes_and_token_counts(
    exported: Exported, agent: str, usages: list[tuple[int, int]], finish: list[str]
) -> None:
    run = _one(exported.store, f"invoke_agent {agent}")
    chats = _children(exported.store, run, "chat scripted")
    seen = [
        (
            c.attributes["gen_ai.operation.name"],
            c.attributes["gen_ai.system"],
            c.attributes["gen_ai.request.model"],
            c.attributes["gen_ai.response.model"],
            c.attributes["gen_ai.response.finish_reasons"],
            (c.attributes["gen_ai.usage.input_tokens"], c.attributes["gen_ai.usage.output_tokens"]),
            c.kind,
        )
        for c in chats
    ]
    assert seen == [
        ("chat", "openai", "scripted", "scripted", [reason], usage, "client")
        for usage, reason in zip(usages, finish, strict=True)
    ]
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["gen_ai.agent.name"] == agent
    assert (
        run.attributes["gen_ai.usage.input_tokens"],
        run.attributes["gen_ai.usage.output_tokens"],
    ) == (
        sum(u[0] for u in usages),
        sum(u[1] for u in usages),
    )


def test_tool_calls_name_the_tool_the_call_and_the_mcp_server(exported: Exported) -> None:
    calc = _one(exported.store, "execute_tool calculate")
    clock = _one(exported.store, "execute_tool get_current_time")
    assert {k: v for k, v in calc.attributes.items() if k != "gen_ai.tool.call.result"} == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "calculate",
        "gen_ai.tool.call.id": "calc-1",
        "gen_ai.tool.type": "extension",
        "gen_ai.agent.name": "researcher",
        "covey.mcp.server": "calc",
        "gen_ai.tool.call.arguments": '{"expression": "6*7"}',
    }
    assert calc.attributes["gen_ai.tool.call.result"] == "42"
    assert clock.attributes["covey.mcp.server"] == "clock"
    assert clock.attributes["gen_ai.tool.call.id"] == "time-1"


def test_contents_are_recorded_when_opted_in(exported: Exported) -> None:
    first = _one(exported.store, "invoke_agent researcher")
    chat = _children(exported.store, first, "chat scripted")[0]
    sent = json.loads(chat.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in sent] == ["system", "user"]
    assert "What is 6*7, and when?" in sent[1]["parts"][0]["content"]
    answer = json.loads(chat.attributes["gen_ai.output.messages"])
    assert answer[0]["parts"] == [
        {
            "type": "tool_call",
            "id": "calc-1",
            "name": "calculate",
            "arguments": {"expression": "6*7"},
        }
    ]


CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
)


def test_without_opting_in_no_content_is_recorded(exported_by_default: Exported) -> None:
    spans = exported_by_default.store
    chat = next(s for s in spans if s.name == "chat scripted")
    assert chat.attributes["gen_ai.usage.input_tokens"] > 0  # the span is there, with figures
    recorded = {k for s in spans for k in s.attributes} | {
        k for s in exported_by_default.otlp for k in s["attributes"]
    }
    assert recorded.isdisjoint(CONTENT_KEYS), recorded & set(CONTENT_KEYS)
    dumped = json.dumps([[s.attributes, s.events] for s in spans])
    assert "What is 6*7" not in dumped and '"42"' not in dumped


def test_no_secret_from_headers_or_keys_is_recorded(exported: Exported) -> None:
    dumped = json.dumps([[s.attributes, s.events] for s in exported.store])
    dumped += json.dumps([s["attributes"] for s in exported.otlp])
    assert SECRET_KEY not in dumped
    assert SECRET_TOKEN not in dumped


def test_the_otlp_receiver_gets_the_same_spans(exported: Exported) -> None:
    trace_id = exported.store[0].trace_id
    received = {
        (s["span_id"], s["parent_id"], s["name"])
        for s in exported.otlp
        if s["trace_id"] == trace_id
    }
    stored = {(s.span_id, s.parent_id, s.name) for s in exported.store}
    assert received == stored
    chat = next(s for s in exported.otlp if s["name"] == "chat scripted")
    assert chat["attributes"]["gen_ai.operation.name"] == "chat"
    assert chat["attributes"]["gen_ai.usage.input_tokens"] > 0


def test_the_http_mcp_server_gets_the_callers_traceparent(exported: Exported) -> None:
    request = _one(exported.store, "MCP send tools/call get_current_time")
    assert any(
        header.startswith(f"00-{request.trace_id}-{request.span_id}-")
        for header in exported.traceparents
    ), exported.traceparents
