"""Wire schemas of the mock: one module per schema behind the ``Schema`` protocol (``base``),
found by provider and path through ``registry``."""

from .base import EndpointKind, RenderedStream, Schema, Target, body_target
from .registry import (
    REST_COUNT_TOKENS,
    REST_MESSAGES,
    REST_RESPONSES,
    UNIFIED_CHAT,
    fallback_schema,
    schema_for,
)

__all__ = [
    "REST_COUNT_TOKENS",
    "REST_MESSAGES",
    "REST_RESPONSES",
    "UNIFIED_CHAT",
    "EndpointKind",
    "RenderedStream",
    "Schema",
    "Target",
    "body_target",
    "fallback_schema",
    "schema_for",
]
