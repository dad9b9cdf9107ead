"""`configure()`: an OpenTelemetry SDK tracer provider with covey's store and/or OTLP."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from .._errors import UsageError
from ._exporter import StoreSpanExporter
from ._switch import set_capture_content

__all__ = ["configure"]

_OTLP_ENV = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def configure(
    *,
    store: str | bool | None = None,
    otlp_endpoint: str | None = None,
    capture_content: bool | None = None,
    service_name: str | None = None,
    export_delay: float = 0.5,
) -> TracerProvider:
    """Turn tracing on: set a global SDK tracer provider that exports covey's spans.

    Standard `OTEL_*` variables apply: `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`
    (or `..._TRACES_ENDPOINT`, `..._HEADERS`), and
    `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` to record prompts and results.
    If a provider is already set globally (for example by `opentelemetry-instrument`), the
    exporters are added to it instead.

    Args:
        store: write spans to covey's store for `covey view`: a database URL, or True for
            `COVEY_DB` (default `.covey/covey.db`); None or False: not to the store.
        otlp_endpoint: an OTLP/HTTP collector's base URL (`http://host:4318`); default the
            `OTEL_EXPORTER_OTLP_*ENDPOINT` variables, and no OTLP export if neither is set.
        capture_content: record message contents, tool arguments and results on spans
            (default: the GenAI conventions' environment variable, else off).
        service_name: the resource's `service.name` (default `OTEL_SERVICE_NAME`, else covey).
        export_delay: seconds between batch exports (short, so `covey view` is live).

    Returns:
        The provider; call `shutdown()` on it before exit to export the last spans.

    Raises:
        UsageError: no exporter was asked for, or the provider set globally is not the SDK's.
    """
    exporters: list[SpanExporter] = []
    if store:
        exporters.append(StoreSpanExporter(store if isinstance(store, str) else None))
    endpoint = otlp_endpoint or next((os.environ[k] for k in _OTLP_ENV if k in os.environ), None)
    if endpoint is not None:
        exporters.append(_otlp(endpoint, explicit=otlp_endpoint is not None))
    if not exporters:
        raise UsageError(
            "covey.tracing.configure() has nowhere to send spans: pass store=True (for "
            "`covey view`), otlp_endpoint='http://host:4318', or set OTEL_EXPORTER_OTLP_ENDPOINT."
        )
    provider = _provider(service_name)
    for exporter in exporters:
        provider.add_span_processor(
            BatchSpanProcessor(exporter, schedule_delay_millis=int(export_delay * 1000))
        )
    if capture_content is not None:
        set_capture_content(capture_content)
    return provider


def _provider(service_name: str | None) -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    if not isinstance(current, trace.ProxyTracerProvider):
        raise UsageError(
            f"A tracer provider of type {type(current).__name__} is already set globally, and "
            "covey can only add exporters to the SDK's TracerProvider: add covey's "
            "StoreSpanExporter to your provider yourself."
        )
    name = service_name or os.environ.get("OTEL_SERVICE_NAME") or "covey"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    trace.set_tracer_provider(provider)
    return provider


def _otlp(endpoint: str, *, explicit: bool) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if not explicit:
        return OTLPSpanExporter()  # reads the OTEL_EXPORTER_OTLP_* variables itself
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
