"""The time MCP server: the current time in a zone, and a time converted between zones.

Tool names, arguments and result shapes match the reference time server
(modelcontextprotocol/servers, `mcp-server-time`), with the IANA zone database of `zoneinfo`.

    python -m covey.servers.time [--local-timezone ZONE] [--http HOST:PORT]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before 3.12

from ._common import (
    BundledServer,
    SetupError,
    add_transport_arguments,
    bad_argument,
    hints,
    run_main,
)

__all__ = ["TimeConversionResult", "TimeResult", "build_server", "local_zone_name", "main"]


class TimeResult(TypedDict):
    """A moment in one zone."""

    timezone: str
    datetime: str
    """ISO 8601 with the zone's offset, to the second."""
    day_of_week: str
    is_dst: bool


class TimeConversionResult(TypedDict):
    """A wall-clock time in one zone and the same moment in another."""

    source: TimeResult
    target: TimeResult
    time_difference: str
    """Target offset minus source offset, e.g. '+9.0h' or '+5.75h'."""


def _zone(name: str, argument: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # zoneinfo's own messages can carry file system paths; say only what to send instead.
        raise bad_argument(
            argument,
            f"{name[:60]!r} is not an IANA time zone",
            "Use a name such as 'Europe/London', 'America/New_York', 'Asia/Tokyo' or 'UTC'.",
        ) from None


def _moment(zone_name: str, moment: datetime) -> TimeResult:
    return TimeResult(
        timezone=zone_name,
        datetime=moment.isoformat(timespec="seconds"),
        day_of_week=moment.strftime("%A"),
        is_dst=bool(moment.dst()),
    )


def _difference(hours: float) -> str:
    if hours.is_integer():
        return f"{hours:+.1f}h"
    return f"{hours:+.2f}".rstrip("0").rstrip(".") + "h"


def local_zone_name(override: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The local IANA zone: the override, else `$TZ`, else `/etc/localtime`'s target, else UTC."""
    env = os.environ if environ is None else environ
    for candidate in (override, env.get("TZ", "").lstrip(":")):
        if candidate:
            return candidate
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    _, marker, name = target.partition("zoneinfo/")
    return name if marker and name else "UTC"


Zone = Annotated[
    str,
    Field(min_length=1, max_length=100, description="IANA time zone name, e.g. 'Europe/Paris'."),
]


class TimeTools:
    """The tools, with the local zone named in their argument descriptions."""

    def __init__(self, local_zone: str) -> None:
        """Describe `local_zone` as the default the model should assume."""
        self.local_zone = local_zone

    def get_current_time(self, timezone: Zone) -> TimeResult:
        """Get the current time in a specific time zone."""
        zone = _zone(timezone, "timezone")
        return _moment(timezone, datetime.now(UTC).astimezone(zone))

    def convert_time(
        self,
        source_timezone: Zone,
        time: Annotated[
            str, Field(max_length=100, description="Time of day, 24-hour HH:MM, e.g. '14:30'.")
        ],
        target_timezone: Zone,
    ) -> TimeConversionResult:
        """Convert a time of day today from one time zone to another."""
        source_zone = _zone(source_timezone, "source_timezone")
        target_zone = _zone(target_timezone, "target_timezone")
        try:
            clock = datetime.strptime(time.strip(), "%H:%M").time()
        except ValueError:
            raise bad_argument(
                "time", f"{time[:20]!r} is not a time", "Use HH:MM in 24-hour form, e.g. '14:30'."
            ) from None
        today = datetime.now(source_zone).date()
        source = datetime.combine(today, clock, tzinfo=source_zone)
        # A wall-clock time skipped by a clock change (02:30 on a spring-forward day) changes
        # when it goes through UTC and back; say so rather than answer for another time.
        if datetime.fromtimestamp(source.timestamp(), source_zone).time() != clock:
            raise bad_argument(
                "time",
                f"{time} does not exist in {source_timezone} on {today} (the clocks skip it)",
                "Pick a time outside the clock change.",
            )
        target = source.astimezone(target_zone)
        offset = (target.utcoffset() or timedelta()) - (source.utcoffset() or timedelta())
        return TimeConversionResult(
            source=_moment(source_timezone, source),
            target=_moment(target_timezone, target),
            time_difference=_difference(offset.total_seconds() / 3600),
        )


def build_server(local_timezone: str | None = None) -> BundledServer:
    """The time server; `local_timezone` overrides the detected local zone.

    Raises:
        SetupError: `local_timezone` is not an IANA zone.
    """
    local = local_zone_name(local_timezone)
    try:
        ZoneInfo(local)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if local_timezone is not None:
            raise SetupError(f"--local-timezone {local_timezone!r} is not an IANA zone") from None
        local = "UTC"
    tools = TimeTools(local)
    server = BundledServer(
        "covey-time", instructions=f"Current time and zone conversion. Local zone: {local}."
    )
    note = f"Use '{local}' as the local zone if the user names none."
    server.add_tool(
        tools.get_current_time,
        description=f"Get the current time in an IANA time zone ('Europe/London'). {note}",
        annotations=hints(read_only=True),
    )
    server.add_tool(
        tools.convert_time,
        description="Convert a 24-hour time of day (HH:MM) today from one IANA time zone to "
        f"another, e.g. 'America/New_York' to 'Asia/Tokyo'. {note}",
        annotations=hints(read_only=True),
    )
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covey serve time", description="MCP server for the current time and time zones."
    )
    parser.add_argument(
        "--local-timezone", metavar="ZONE", help="the local IANA zone (default: detected)"
    )
    add_transport_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the time server: `covey serve time`."""
    return run_main(lambda args: build_server(args.local_timezone), _parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
