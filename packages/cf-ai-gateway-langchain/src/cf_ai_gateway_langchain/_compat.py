"""What differs between langchain-core 0.3.x and 1.x, detected once at import time.

We never pin to one line: features that only exist on 1.x (``chunk_position`` on message chunks,
``model_provider`` / ``output_version`` in response metadata) are used when present.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk

__all__ = [
    "HAS_CHUNK_POSITION",
    "HAS_MODEL_PROVIDER",
    "HAS_PROFILE",
    "MODEL_PROVIDER",
    "new_run_id",
]

from uuid import UUID, uuid4

try:  # 1.x makes time-ordered run ids; 0.3 random ones
    from langchain_core.utils.uuid import uuid7 as _uuid7
except ImportError:  # pragma: no cover - langchain-core 0.3
    _uuid7 = None  # type: ignore[assignment]


def new_run_id() -> UUID:
    """A run id of the kind this langchain-core makes itself."""
    return _uuid7() if _uuid7 is not None else uuid4()


HAS_CHUNK_POSITION: bool = "chunk_position" in AIMessageChunk.model_fields
"""1.x marks the final chunk of a stream with ``chunk_position="last"``."""

HAS_MODEL_PROVIDER: bool = HAS_CHUNK_POSITION
"""1.x reads ``response_metadata["model_provider"]`` to pick a content-block translator. On 0.3
the key is not used, and chunk metadata strings would be concatenated when merged, so we only
set it on 1.x."""

MODEL_PROVIDER = "cloudflare_ai_gateway"
"""Our ``model_provider`` / ``ls_provider`` value. No 1.x content translator is registered under
it, so LangChain's best-effort parsing applies: our content is always Chat Completions text plus
``tool_calls``, which that parser handles exactly (and the upstream provider is in ``cf_aig``)."""

HAS_PROFILE: bool = "profile" in BaseChatModel.model_fields
"""1.1+ has ``BaseChatModel.profile`` (what the model can do; ``create_agent`` reads
``structured_output`` to choose between provider-native and tool-calling structured output)."""
