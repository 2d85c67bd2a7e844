"""The Auto Router (``"model": "cloudflare/auto"``), emulated deterministically.

Cloudflare's Auto Router page (developers.cloudflare.com/ai-gateway/features/auto-router/)
documents the pool, the request headers, the response headers and the routing reasons; how
it classifies and scores is its own. The emulator keeps the documented parts and replaces the
scoring with a rule a test can predict:

- **Pool**: the page's default models; ``cf-aig-allowed-models`` (comma-separated patterns,
  ``*`` matches within one segment, never ``/``) replaces them with the matching models of the
  whole catalogue (default and additional); ``cf-aig-allowed-providers`` keeps the catalogue's
  models of those providers; with both, a model must match both. An entry that matches no
  model, or a pool left empty, is a 400 (``CODE_BAD_REQUEST``).
- **Choice**: each model has a capability tier (1 small, 2 medium, 3 large: the emulator's own
  reading of the names, not Cloudflare's data). The task asks for tier 1 when the last user
  message has fewer than 40 words, 2 below 200, else 3, one tier more when the request offers
  tools; the router takes the smallest tier that reaches it (the cheapest that can do the
  task; the largest there is when none reaches it), ties in catalogue order. Reason
  ``cost_optimal_within_pool``; ``forced_by_candidate_pool`` with one eligible model;
  ``fallback_unsupported_input`` when the request has no text to classify (the first model).
- **Session affinity**: with ``cf-aig-session-id`` (and no ``cf-aig-no-session-affinity:
  true``), the model chosen for a turn is kept for every request of that turn
  (``pinned_by_turn``). The turn is ``cf-aig-turn-id``, else the number of user messages in
  the history (a turn is a user message plus its tool-call round trips). A new turn chooses
  again.
- **Fallback**: when the chosen model's step fails, the next in rank answers
  (``fallback_candidate_unavailable``); every failed try is logged.

The answer carries ``cf-aig-routed-model`` (the catalogue name), ``cf-aig-routing-reason`` and
``cf-aig-routing-decision-id``. The catalogue is Cloudflare's list; its providers that the core
registry does not know (``alibaba``, ``fireworks``, ``minimax``) are mocked in OpenAI's schema.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.providers import Provider, get_provider

__all__ = [
    "ADDITIONAL_MODELS",
    "CATALOGUE",
    "DEFAULT_MODELS",
    "AutoRouterState",
    "CatalogueModel",
    "Decision",
    "PoolError",
    "candidate_pool",
    "decide",
]


@dataclass(frozen=True)
class CatalogueModel:
    """One model the Auto Router may choose: its name as the page lists it, the page's provider
    value (what ``cf-aig-allowed-providers`` takes) and the emulator's capability tier."""

    name: str
    provider: str
    tier: int
    default: bool = False

    @property
    def model(self) -> str:
        """The model as the provider is asked for it (``@cf/...`` names are Workers AI's)."""
        prefix = f"{self.provider}/"
        return self.name[len(prefix) :] if self.name.startswith(prefix) else self.name

    def gateway_provider(self) -> Provider:
        """The registry's provider, or an OpenAI-compatible stand-in for one it lacks."""
        try:
            return get_provider(self.provider)
        except ValueError:
            return Provider(
                name=self.provider,
                slug=self.provider,
                unified_prefix=self.provider,
                auth_style="bearer",
                chat_path="chat/completions",
            )


def _models(default: bool, rows: Iterable[tuple[str, str, int]]) -> tuple[CatalogueModel, ...]:
    return tuple(CatalogueModel(name, provider, tier, default) for name, provider, tier in rows)


DEFAULT_MODELS = _models(
    True,
    [
        ("anthropic/claude-fable-5", "anthropic", 1),
        ("anthropic/claude-opus-5", "anthropic", 3),
        ("anthropic/claude-sonnet-5", "anthropic", 2),
        ("openai/gpt-5.6-luna", "openai", 1),
        ("openai/gpt-5.6-sol", "openai", 3),
        ("openai/gpt-5.6-terra", "openai", 2),
        ("xai/grok-4.5", "xai", 2),
    ],
)
"""The page's "Default models" (the pool without ``cf-aig-allowed-*`` headers)."""

ADDITIONAL_MODELS = _models(
    False,
    [
        ("@cf/deepseek-ai/deepseek-v4-flash-0731", "workers-ai", 1),
        ("@cf/deepseek-ai/deepseek-v4-pro-0813", "workers-ai", 2),
        ("@cf/google/gemma-4-26b-a4b-it", "workers-ai", 1),
        ("@cf/moonshotai/kimi-k2.7-code", "workers-ai", 2),
        ("@cf/openai/gpt-oss-20b", "workers-ai", 1),
        ("@cf/qwen/qwen3.8-27b", "workers-ai", 1),
        ("@cf/zai-org/glm-5.2", "workers-ai", 2),
        ("alibaba/qwen3.8-max", "alibaba", 3),
        ("anthropic/claude-fable-5.1", "anthropic", 1),
        ("anthropic/claude-opus-4.8", "anthropic", 3),
        ("anthropic/claude-opus-5.5", "anthropic", 3),
        ("anthropic/claude-sonnet-4.6", "anthropic", 2),
        ("fireworks/glm-5.3", "fireworks", 2),
        ("fireworks/glm-5.3-flash", "fireworks", 1),
        ("minimax/m3", "minimax", 2),
        ("openai/gpt-5.5", "openai", 2),
        ("openai/gpt-6-astra", "openai", 3),
        ("openai/gpt-6-luna", "openai", 1),
        ("openai/gpt-6-sol", "openai", 3),
        ("xai/grok-4.6", "xai", 2),
    ],
)
"""The page's "Additional models": chosen only when ``cf-aig-allowed-*`` names them."""

CATALOGUE = DEFAULT_MODELS + ADDITIONAL_MODELS

SHORT_TASK_WORDS = 40
LONG_TASK_WORDS = 200


class PoolError(ValueError):
    """The ``cf-aig-allowed-*`` headers leave no model (answered 400)."""


def _entries(value: str | None) -> list[str]:
    if value is None:
        return []
    return [e.strip() for e in value.split(wire.LIST_SEPARATOR) if e.strip()]


def _pattern(entry: str) -> re.Pattern[str]:
    parts = (re.escape(p) for p in entry.split(wire.MODEL_WILDCARD))
    return re.compile("[^/]*".join(parts))


def candidate_pool(headers: Mapping[str, str]) -> list[CatalogueModel]:
    """The models ``cloudflare/auto`` may choose from, after the ``cf-aig-allowed-*``
    headers (see the module docstring); ``PoolError`` for an entry that matches nothing."""
    patterns = _entries(headers.get(wire.H_ALLOWED_MODELS))
    providers = _entries(headers.get(wire.H_ALLOWED_PROVIDERS))
    if not patterns and not providers:
        return list(DEFAULT_MODELS)
    pool = list(CATALOGUE)
    if patterns:
        compiled = [(entry, _pattern(entry)) for entry in patterns]
        for entry, pattern in compiled:
            if not any(pattern.fullmatch(m.name) for m in CATALOGUE):
                raise PoolError(
                    f"{wire.H_ALLOWED_MODELS} entry {entry!r} matches no model ('*' does not "
                    "match '/': use 'anthropic/*')"
                )
        pool = [m for m in pool if any(p.fullmatch(m.name) for _, p in compiled)]
    if providers:
        known = {m.provider for m in CATALOGUE}
        for provider in providers:
            if provider not in known:
                raise PoolError(
                    f"{wire.H_ALLOWED_PROVIDERS} entry {provider!r} is not a provider the Auto "
                    f"Router uses ({', '.join(sorted(known))})"
                )
        pool = [m for m in pool if m.provider in providers]
    if not pool:
        raise PoolError(
            f"no model matches both {wire.H_ALLOWED_MODELS} and {wire.H_ALLOWED_PROVIDERS}"
        )
    return pool


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text(part) for part in value)
    if isinstance(value, Mapping):
        if isinstance(value.get("text"), str):
            return str(value["text"])
        return _text(value.get("content"))
    return ""


def _conversation(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The messages of a Chat Completions (``messages``) or Responses (``input``) body."""
    messages = body.get("messages")
    if isinstance(messages, list):
        return [m for m in messages if isinstance(m, Mapping)]
    given = body.get("input")
    if isinstance(given, str):
        return [{"role": "user", "content": given}]
    if isinstance(given, list):
        return [m for m in given if isinstance(m, Mapping)]
    return []


def user_turns(body: Mapping[str, Any]) -> int:
    """How many user messages the history holds: the turn a request belongs to."""
    return sum(1 for m in _conversation(body) if m.get("role") == "user")


def _wanted_tier(body: Mapping[str, Any]) -> int | None:
    """The tier the task needs, or ``None`` when there is no text to classify."""
    users = [m for m in _conversation(body) if m.get("role") == "user"]
    words = len(_text(users[-1].get("content")).split()) if users else 0
    if words == 0:
        return None
    tier = 1 if words < SHORT_TASK_WORDS else 2 if words < LONG_TASK_WORDS else 3
    return min(3, tier + 1) if body.get("tools") else tier


def rank(pool: Sequence[CatalogueModel], tier: int) -> list[CatalogueModel]:
    """The pool best first for a task of ``tier``: the smallest tier that reaches it, then
    larger ones, then those below it from the largest down; catalogue order breaks ties."""
    order = {m.name: i for i, m in enumerate(CATALOGUE)}

    def key(m: CatalogueModel) -> tuple[int, int, int]:
        reaches = m.tier >= tier
        return (0 if reaches else 1, m.tier if reaches else -m.tier, order[m.name])

    return sorted(pool, key=key)


@dataclass(frozen=True)
class Decision:
    """The models to try in order, why the first was chosen, and where to pin the model that
    answers (``None`` without session affinity)."""

    ranked: tuple[CatalogueModel, ...]
    reason: wire.RoutingReason
    pin: tuple[tuple[str, str, str], str] | None = None


class AutoRouterState:
    """The models pinned per session turn: ``(account, gateway, session) -> (turn, model)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, str, str], tuple[str, str]] = {}

    def pinned(self, key: tuple[str, str, str], turn: str) -> str | None:
        with self._lock:
            pin = self._pins.get(key)
        return pin[1] if pin is not None and pin[0] == turn else None

    def pin(self, key: tuple[str, str, str], turn: str, model: str) -> None:
        with self._lock:
            self._pins[key] = (turn, model)


def decide(
    state: AutoRouterState,
    scope: tuple[str, str],
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    affinity: bool,
) -> Decision:
    """Choose for one request (see the module docstring); ``scope``: account and gateway;
    ``affinity``: whether session affinity applies (a session id, and it is not turned off)."""
    pool = candidate_pool(headers)
    session = headers.get(wire.H_SESSION_ID, "").strip()
    turn = headers.get(wire.H_TURN_ID, "").strip() or f"user-messages:{user_turns(body)}"
    key = (scope[0], scope[1], session)
    tier = _wanted_tier(body)
    pin = (key, turn) if affinity and session else None
    if pin is not None:
        pinned = state.pinned(key, turn)
        chosen = next((m for m in pool if m.name == pinned), None)
        if chosen is not None:
            rest = rank([m for m in pool if m is not chosen], tier or 1)
            return Decision((chosen, *rest), "pinned_by_turn", pin)
    reason: wire.RoutingReason
    if tier is None:
        ranked, reason = list(pool), "fallback_unsupported_input"
    else:
        ranked = rank(pool, tier)
        reason = "forced_by_candidate_pool" if len(pool) == 1 else "cost_optimal_within_pool"
    return Decision(tuple(ranked), reason, pin)
