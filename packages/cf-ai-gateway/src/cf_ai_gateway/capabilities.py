"""What well-known models behind the gateway can do, for adapters that tell their framework
(LangChain's model ``profile``, LlamaIndex's ``LLMMetadata``): context window, output limit,
tool calling, structured output, image input, reasoning.

The data lives in one file, ``data/model_capabilities.json``, keyed by
``"{provider path segment}/{model}"``. Only exact names are known: a dated snapshot, a dynamic
route or an unlisted model has no capabilities (``None``) rather than a guess.

>>> model_capabilities("openai/gpt-4o-mini").structured_output
True
>>> model_capabilities("workers-ai/@cf/meta/llama-3.1-8b-instruct") is None
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import lru_cache

from .providers import get_provider, split_model

__all__ = ["ModelCapabilities", "model_capabilities"]


def _both_int(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else min(a, b)


def _both_bool(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


@dataclass(frozen=True)
class ModelCapabilities:
    """What a model can do through the gateway; ``None`` means not known.

    - ``context_window``: the most input tokens; ``max_output_tokens``: the most output tokens;
    - ``tool_calling``: OpenAI-style ``tools``;
    - ``structured_output``: ``response_format`` ``json_schema`` through the gateway's
      OpenAI-schema surfaces (``None`` where the gateway's translation is not documented);
    - ``image_input``: image content parts; ``reasoning``: the model reasons before answering.
    """

    context_window: int | None = None
    max_output_tokens: int | None = None
    tool_calling: bool | None = None
    structured_output: bool | None = None
    image_input: bool | None = None
    reasoning: bool | None = None

    def combine(self, other: ModelCapabilities) -> ModelCapabilities:
        """What both models can do (a call with fallbacks may be answered by either): the
        smaller limits, and a capability only where both have it."""
        return ModelCapabilities(
            context_window=_both_int(self.context_window, other.context_window),
            max_output_tokens=_both_int(self.max_output_tokens, other.max_output_tokens),
            tool_calling=_both_bool(self.tool_calling, other.tool_calling),
            structured_output=_both_bool(self.structured_output, other.structured_output),
            image_input=_both_bool(self.image_input, other.image_input),
            reasoning=_both_bool(self.reasoning, other.reasoning),
        )


@lru_cache(maxsize=1)
def _table() -> dict[str, ModelCapabilities]:
    from importlib import resources  # here: loading the table is the only use

    data = resources.files("cf_ai_gateway").joinpath("data/model_capabilities.json")
    text = data.read_text("utf-8")
    names = {f.name for f in fields(ModelCapabilities)}
    table: dict[str, ModelCapabilities] = {}
    for model, values in json.loads(text)["models"].items():
        unknown = set(values) - names
        if unknown:  # pragma: no cover - guarded by the core's tests
            raise ValueError(f"model_capabilities.json: {model}: unknown keys {sorted(unknown)}")
        table[model] = ModelCapabilities(**values)
    return table


def _key(model: str) -> str | None:
    try:
        provider, rest = split_model(model)
        return f"{get_provider(provider).slug}/{rest}"
    except ValueError:
        return None


def model_capabilities(*models: str) -> ModelCapabilities | None:
    """The capabilities of ``models`` together: one model's, or what every model of a call
    with fallbacks can do. ``None`` when any of them is not known (exact names only;
    provider aliases and unified prefixes are accepted, ``perplexity/...`` as
    ``perplexity-ai/...``)."""
    if not models:
        return None
    table = _table()
    found: ModelCapabilities | None = None
    for model in models:
        key = _key(model)
        caps = table.get(key) if key is not None else None
        if caps is None:
            return None
        found = caps if found is None else found.combine(caps)
    return found
