"""The time server: the reference server's tools and shapes, in memory and over HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest
from mcp import Client

from covey.servers._common import SetupError
from covey.servers.time import build_server, local_zone_name

from .conftest import http_client_for, http_process


async def test_current_time_and_conversion_match_the_reference_shapes() -> None:
    async with Client(build_server("Europe/Paris")) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        now = await client.call_tool("get_current_time", {"timezone": "Asia/Tokyo"})
        converted = await client.call_tool(
            "convert_time",
            {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Kathmandu"},
        )
    assert set(tools) == {"get_current_time", "convert_time"}
    assert "Europe/Paris" in (tools["get_current_time"].description or "")
    assert set(tools["convert_time"].input_schema["properties"]) == {
        "source_timezone",
        "time",
        "target_timezone",
    }
    assert all(tool.output_schema is not None for tool in tools.values())
    data = now.structured_content
    assert data is not None and set(data) == {"timezone", "datetime", "day_of_week", "is_dst"}
    assert datetime.fromisoformat(data["datetime"]).utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]
    result = converted.structured_content
    assert result is not None and result["time_difference"] == "+5.75h"
    assert result["target"]["datetime"].endswith("17:45:00+05:45")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"timezone": "../../../etc/passwd"}, "not an IANA time zone"),
        ({"timezone": "/etc/localtime"}, "not an IANA time zone"),
        ({"timezone": "Europe/Paris\x00"}, "not an IANA time zone"),
    ],
)
async def test_bad_zones_are_tool_errors(arguments: dict[str, str], message: str) -> None:
    async with Client(build_server()) as client:
        result = await client.call_tool("get_current_time", arguments)
    assert result.is_error and message in getattr(result.content[0], "text", "")


async def test_bad_times_are_tool_errors() -> None:
    async with Client(build_server()) as client:
        result = await client.call_tool(
            "convert_time", {"source_timezone": "UTC", "time": "25:99", "target_timezone": "UTC"}
        )
    assert result.is_error and "HH:MM" in getattr(result.content[0], "text", "")


def test_local_zone_detection() -> None:
    assert local_zone_name("Asia/Tokyo", {}) == "Asia/Tokyo"
    assert local_zone_name(None, {"TZ": ":America/Chicago"}) == "America/Chicago"
    assert local_zone_name(None, {})  # /etc/localtime, or UTC
    with pytest.raises(SetupError, match="--local-timezone"):
        build_server("Not/AZone")


async def test_process_over_http() -> None:
    async with http_process("covey.servers.time", "--local-timezone", "UTC") as url:
        async with http_client_for(url, mode="legacy") as client:
            result = await client.call_tool("get_current_time", {"timezone": "UTC"})
    assert result.structured_content is not None
    assert result.structured_content["datetime"].endswith("+00:00")
