"""Rate any MCP server: protocol, tool definitions, robustness, security and performance.

Example:
    ```python
    rating = await rate_server(["npx", "-y", "@modelcontextprotocol/server-memory"])
    print(rating.dimension("robustness").grade)
    ```
"""

from ._context import RateOptions
from ._rate import rate_server
from ._session import WORKDIR_PLACEHOLDER
from .models import (
    SCHEMA_VERSION,
    DimensionName,
    DimensionReport,
    Evidence,
    Finding,
    Rating,
    Severity,
)

__all__ = [
    "SCHEMA_VERSION",
    "WORKDIR_PLACEHOLDER",
    "DimensionName",
    "DimensionReport",
    "Evidence",
    "Finding",
    "RateOptions",
    "Rating",
    "Severity",
    "rate_server",
]
