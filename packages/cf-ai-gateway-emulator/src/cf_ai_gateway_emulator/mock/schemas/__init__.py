"""Wire schemas of the mock: one module per schema behind the ``Schema`` protocol (``base``),
found by provider and path through ``registry``."""

from .base import EndpointKind, RenderedStream, Schema
from .registry import UNIFIED_CHAT, fallback_schema, schema_for

__all__ = [
    "UNIFIED_CHAT",
    "EndpointKind",
    "RenderedStream",
    "Schema",
    "fallback_schema",
    "schema_for",
]
