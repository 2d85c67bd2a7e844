"""The emulator's mutable state: accounts and gateways (config plus management API changes),
storage, clock, rate limiters and the seeded random sources of dynamic routes."""

from __future__ import annotations

import hmac
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cf_ai_gateway import wire

from .auto_router import AutoRouterState
from .billing import Ledger
from .clock import Clock, SystemClock
from .config import EmulatorConfig, GatewaySettings, load_config
from .ids import short_hash
from .mock.scripts import ScriptBook
from .ratelimit import RateLimiter
from .storage import Storage

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["Account", "EmulatorState", "constant_time_in", "iso_time"]


def constant_time_in(token: str, known: tuple[str, ...]) -> bool:
    """Whether ``token`` is one of ``known``, in time that does not depend on where the first
    differing character is (``hmac.compare_digest``; every candidate is compared)."""
    given = token.encode("utf-8", "surrogateescape")
    found = False
    for candidate in known:
        found |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogateescape"))
    return found


def iso_time(ts: float) -> str:
    """``2025-01-01T12:00:00.000Z``: the logs API's timestamp format."""
    return (
        datetime.fromtimestamp(ts, timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@dataclass
class Account:
    id: str
    api_tokens: tuple[str, ...] = field(repr=False)
    gateways: dict[str, GatewaySettings] = field(default_factory=dict)


class EmulatorState:
    """Everything the ASGI app reads and changes; thread-safe for the test helpers."""

    def __init__(
        self,
        config: EmulatorConfig | str | Path | Mapping[str, Any] | None = None,
        *,
        db: str | Path = ":memory:",
        clock: Clock | None = None,
    ) -> None:
        self.config = load_config(config)
        self.storage = Storage(db)
        self.clock: Clock = clock or SystemClock()
        self.limiter = RateLimiter()
        self.auto_router = AutoRouterState()
        """The Auto Router's models pinned per session turn."""
        self.billing = Ledger()
        """Unified Billing balances and spend per spend-limit window."""
        self.scripts = ScriptBook(self.config.mock.scripts)
        """Scripted answers: the config's, and those added at run time."""
        self._lock = threading.RLock()
        self._rngs: dict[tuple[str, ...], random.Random] = {}
        self._route_versions: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        now = iso_time(self.clock.now())
        self.accounts: dict[str, Account] = {
            acc.id: Account(
                acc.id,
                acc.api_tokens,
                {
                    gid: replace(gw, created_at=now, modified_at=now)
                    for gid, gw in acc.gateways.items()
                },
            )
            for acc in self.config.accounts.values()
        }

    @staticmethod
    def of(request: Request) -> EmulatorState:
        """The state behind the app serving ``request`` (``create_app`` puts it there)."""
        return request.app.state.emulator  # type: ignore[no-any-return]

    # --- gateways -------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def get_gateway(self, account_id: str, gateway_id: str) -> GatewaySettings | None:
        with self._lock:
            account = self.accounts.get(account_id)
            return account.gateways.get(gateway_id) if account else None

    def put_gateway(
        self, account_id: str, settings: GatewaySettings, *, create: bool = False
    ) -> GatewaySettings:
        """Create (``create=True``) or fully replace a gateway; returns the stored settings."""
        with self._lock:
            account = self.accounts[account_id]
            old = account.gateways.get(settings.id)
            now = iso_time(self.now())
            if create and old is not None:
                raise KeyError(settings.id)
            stored = replace(
                settings,
                created_at=old.created_at if old else now,
                modified_at=now,
                routes=settings.routes or (old.routes if old else {}),
                aliases=settings.aliases or (old.aliases if old else {}),
                # emulator-only settings the management API does not carry survive its PUT
                provider_keys=settings.provider_keys or (old.provider_keys if old else {}),
                credits=settings.credits
                if settings.credits is not None or not old
                else (old.credits),
                spend_limits=settings.spend_limits or (old.spend_limits if old else ()),
            )
            account.gateways[settings.id] = stored
        self.billing.reset((account_id, settings.id))
        if old is not None:
            self.limiter.reset((account_id, settings.id))
            if stored.cache_invalidate_on_update:
                self.storage.cache_clear(account_id, settings.id)
        return stored

    def delete_gateway(self, account_id: str, gateway_id: str) -> bool:
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None or gateway_id not in account.gateways:
                return False
            del account.gateways[gateway_id]
        self.storage.drop_gateway(account_id, gateway_id)
        self.limiter.reset((account_id, gateway_id))
        self.billing.reset((account_id, gateway_id))
        return True

    def ensure_default_gateway(self, account_id: str) -> GatewaySettings:
        """The auto-created ``default`` gateway: auth on, logs on, cache off, no rate limit."""
        with self._lock:
            existing = self.get_gateway(account_id, wire.DEFAULT_GATEWAY_ID)
            if existing is not None:
                return existing
            return self.put_gateway(
                account_id,
                GatewaySettings(id=wire.DEFAULT_GATEWAY_ID, authentication=True, collect_logs=True),
            )

    def token_ok(
        self, account_id: str, token: str | None, gateway: GatewaySettings | None = None
    ) -> bool:
        account = self.accounts.get(account_id)
        if account is None or not token:
            return False
        known = (*account.api_tokens, *(gateway.tokens if gateway else ()))
        return constant_time_in(token, known)

    # --- dynamic routes ---------------------------------------------------------------------

    def route_draw(self, *key: str) -> float:
        """A seeded draw in [0, 100) for a percentage element."""
        with self._lock:
            rng = self._rngs.get(key)
            if rng is None:
                rng = random.Random(f"{self.config.mock.seed}:{':'.join(key)}")
                self._rngs[key] = rng
            return rng.random() * 100

    def route_versions(
        self, account_id: str, gateway: GatewaySettings, name: str
    ) -> list[dict[str, Any]]:
        """The versions of a dynamic route, oldest first (the last is active and deployed).

        A route whose definition differs from its latest version gets a new version: routes
        from the config start with one, each management API create of the name adds one.
        """
        from .dynamic_routes import api_elements

        with self._lock:
            versions = self._route_versions.setdefault((account_id, gateway.id, name), [])
            elements = api_elements(gateway.routes[name])
            if not versions or versions[-1]["elements"] != elements:
                for version in versions:
                    version["active"] = False
                created = iso_time(self.now()) if versions else gateway.created_at
                versions.append(
                    {
                        "version_id": short_hash(
                            "version", account_id, gateway.id, name, len(versions), length=32
                        ),
                        "active": True,
                        "created_at": created or iso_time(self.now()),
                        "elements": elements,
                    }
                )
            return [dict(v) for v in versions]

    def forget_route(self, account_id: str, gateway_id: str, name: str) -> None:
        """Drop a deleted route's versions."""
        with self._lock:
            self._route_versions.pop((account_id, gateway_id, name), None)

    def logs(self, account_id: str, gateway_id: str) -> list[dict[str, Any]]:
        return self.storage.logs(account_id, gateway_id)
