"""Model capabilities: one data file, exact names only, fallbacks combined."""

from __future__ import annotations

import json
from dataclasses import fields
from importlib import resources

import pytest
from cf_ai_gateway import PROVIDERS, ModelCapabilities, get_provider, model_capabilities


def _rows() -> dict[str, dict[str, object]]:
    text = resources.files("cf_ai_gateway").joinpath("data/model_capabilities.json").read_text()
    rows: dict[str, dict[str, object]] = json.loads(text)["models"]
    return rows


def test_every_row_is_well_formed() -> None:
    names = {f.name for f in fields(ModelCapabilities)}
    slugs = {p.slug for p in PROVIDERS}
    for model, values in _rows().items():
        provider, _, rest = model.partition("/")
        assert provider in slugs, model  # keyed by the path segment
        assert rest, model
        assert set(values) == names, model  # every key written out, null for not known
        for name in ("context_window", "max_output_tokens"):
            assert values[name] is None or (isinstance(values[name], int) and values[name] > 0)
        assert model_capabilities(model) == ModelCapabilities(**values)  # type: ignore[arg-type]


def test_known_model() -> None:
    caps = model_capabilities("openai/gpt-4o-mini")
    assert caps == ModelCapabilities(
        context_window=128000,
        max_output_tokens=16384,
        tool_calling=True,
        structured_output=True,
        image_input=True,
        reasoning=False,
    )


@pytest.mark.parametrize(
    "model",
    [
        "openai/gpt-4o-mini-2024-07-18",  # a dated snapshot may differ: not guessed
        "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        "dynamic/support",
        "gpt-4o-mini",
        "nosuchprovider/x",
        "custom-acme/gpt-4o-mini",
    ],
)
def test_unknown_models_have_none(model: str) -> None:
    assert model_capabilities(model) is None


def test_provider_aliases_find_the_row() -> None:
    assert get_provider("groq").slug == "groq"
    assert model_capabilities("groq/openai/gpt-oss-20b") is not None


def test_fallbacks_combine_to_what_every_model_can_do() -> None:
    both = model_capabilities("openai/gpt-4o-mini", "groq/llama-3.3-70b-versatile")
    assert both is not None
    assert both.context_window == 128000
    assert both.max_output_tokens == 16384
    assert both.tool_calling is True
    assert both.image_input is False
    assert both.structured_output is None  # not known for one of them
    assert model_capabilities("openai/gpt-4o-mini", "workers-ai/@cf/x") is None
    assert model_capabilities() is None
