"""OpenAI embeddings: ``input`` (a string, a list of strings or token ids), ``dimensions``,
``encoding_format`` (``float`` or ``base64``: little-endian float32). Embeddings never stream.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Mapping
from typing import Any

from ..engine import MAX_DIMENSIONS
from ..neutral import EmbeddingsAnswer, EmbeddingsRequest, MockFailure, Usage
from . import openai_common
from .base import EndpointKind, RenderedStream, Schema, Target

__all__ = ["OPENAI_EMBEDDINGS", "OpenAIEmbeddings"]


class OpenAIEmbeddings(Schema[EmbeddingsRequest, EmbeddingsAnswer]):
    """OpenAI's ``embeddings``."""

    name = "openai-embeddings"
    kind: EndpointKind = "embeddings"

    def parse_request(self, body: Mapping[str, Any], *, target: Target) -> EmbeddingsRequest:
        raw = body.get("input")
        if isinstance(raw, str):
            inputs = [raw]
        elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
            inputs = [" ".join(map(str, raw))]
        elif isinstance(raw, list) and raw:
            inputs = [x if isinstance(x, str) else json.dumps(x) for x in raw]
        else:
            raise MockFailure(
                400,
                "'input' must be a non-empty string or array",
                "invalid_request",
                "invalid_input",
            )
        dims = body.get("dimensions")
        if dims and (
            not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= MAX_DIMENSIONS
        ):
            raise MockFailure(
                400,
                f"'dimensions' must be an integer from 1 to {MAX_DIMENSIONS}",
                "invalid_request",
                "invalid_value",
            )
        return EmbeddingsRequest(
            model=target.model, raw=body, inputs=tuple(inputs), dimensions=dims or None
        )

    def render_answer(
        self, request: EmbeddingsRequest, answer: EmbeddingsAnswer, *, created: int
    ) -> dict[str, Any]:
        as_base64 = request.raw.get("encoding_format") == "base64"
        data = []
        for i, vector in enumerate(answer.vectors):
            embedding: Any = list(vector)
            if as_base64:
                packed = struct.pack(f"<{len(vector)}f", *vector)
                embedding = base64.b64encode(packed).decode()
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        tokens = answer.usage.input_tokens
        return {
            "object": "list",
            "data": data,
            "model": request.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def render_stream(
        self, request: EmbeddingsRequest, answer: EmbeddingsAnswer, *, created: int
    ) -> RenderedStream:
        raise TypeError("embeddings are never streamed")

    def read_usage(self, content: bytes, *, streamed: bool) -> Usage:
        return openai_common.read_usage(content, streamed=streamed)

    def render_error(self, failure: MockFailure) -> dict[str, Any]:
        return openai_common.render_error(failure)


OPENAI_EMBEDDINGS = OpenAIEmbeddings()
