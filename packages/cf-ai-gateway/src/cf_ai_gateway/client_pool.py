"""Pooled clients for adapters: one sync client and one async client per event loop, per
configuration, built lazily and shared by every framework object with that configuration.

Frameworks build model objects freely (per request, per ``configurable_fields`` variant, per
copy), and a model that owned its own ``httpx`` pool would leak a pool each time. Adapters
instead ask :func:`shared_clients` for the :class:`ClientPair` of their
:class:`ClientConfig`: equal configurations share one pair, so 1,000 models with the same
settings hold one connection pool. The process-wide cache keeps the most recently used
configurations; :func:`close_shared_clients` closes everything (tests, app shutdown).

A client you pass yourself (``http_client=``) is used as is and never closed or changed by
us; build a private :class:`ClientPair` for it.

>>> from cf_ai_gateway import Gateway
>>> config = ClientConfig(Gateway(account_id="a", gateway_id="g"), api_key="sk-x")
>>> shared_clients(config) is shared_clients(ClientConfig(Gateway(account_id="a",
...                                                               gateway_id="g"), api_key="sk-x"))
True
>>> "sk-x" in repr(config)
False
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ._deadline import check_deadline_seconds, check_timeout
from .client import DEFAULT_TIMEOUT, AsyncGatewayClient, GatewayClient
from .config import Gateway
from .retry import RetryPolicy
from .wire import Surface

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "SHARED_CLIENTS_MAX",
    "ClientConfig",
    "ClientPair",
    "clients_for",
    "close_shared_clients",
    "shared_clients",
]

SHARED_CLIENTS_MAX = 64
"""Configurations whose clients the process-wide cache keeps (least recently used dropped)."""


@dataclass(frozen=True)
class ClientConfig:
    """Everything that decides how a core client talks to the gateway (hashable).

    ``api_key`` is the provider key (``None``: BYOK / Unified Billing); it never appears in
    ``repr``. ``timeout`` is seconds httpx waits for each network operation (connect, each
    write, each read), or an ``httpx.Timeout`` setting each one (``None``: the core default);
    ``deadline`` seconds one call may take in total (``None``: no such bound).
    """

    gateway: Gateway
    surface: Surface = "compat"
    api_key: str | None = field(default=None, repr=False)
    timeout: float | httpx.Timeout | None = field(default=None, hash=False)
    """(Left out of the hash, as ``httpx.Timeout`` has none; equality still compares it.)"""
    max_retries: int = 2
    default_headers: tuple[tuple[str, str], ...] = ()
    deadline: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.default_headers, Mapping):
            object.__setattr__(
                self, "default_headers", tuple(sorted(dict(self.default_headers).items()))
            )
        if (
            not isinstance(self.max_retries, int)
            or isinstance(self.max_retries, bool)
            or self.max_retries < 0
        ):
            raise ValueError(f"max_retries={self.max_retries!r} must be an integer >= 0")
        check_deadline_seconds(self.deadline)
        object.__setattr__(self, "timeout", check_timeout(self.timeout))

    def client_kwargs(self) -> dict[str, Any]:
        return {
            "surface": self.surface,
            "api_key": self.api_key,
            "timeout": self.timeout if self.timeout is not None else DEFAULT_TIMEOUT,
            "retry": RetryPolicy(max_retries=self.max_retries),
            "default_headers": dict(self.default_headers) or None,
            "deadline": self.deadline,
        }


class ClientPair:
    """The lazily built sync client and per-event-loop async clients of one configuration.

    Thread-safe. Pooled async connections belong to the loop that opened them, so each running
    loop gets its own async client; clients of loops that have been closed are dropped.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client must be an httpx.Client, not {type(http_client)}")
        if http_async_client is not None and not isinstance(http_async_client, httpx.AsyncClient):
            raise TypeError(
                f"http_async_client must be an httpx.AsyncClient, not {type(http_async_client)}"
            )
        self.config = config
        self._http_client = http_client
        self._http_async_client = http_async_client
        self._lock = threading.Lock()
        self._sync: GatewayClient | None = None
        self._async: list[tuple[asyncio.AbstractEventLoop, AsyncGatewayClient]] = []

    def __repr__(self) -> str:
        return f"ClientPair({self.config!r})"

    def sync(self) -> GatewayClient:
        """The sync client (built on first use)."""
        with self._lock:
            if self._sync is None:
                self._sync = GatewayClient(
                    self.config.gateway,
                    http_client=self._http_client,
                    **self.config.client_kwargs(),
                )
            return self._sync

    def async_client(self) -> AsyncGatewayClient:
        """The async client of the running event loop (built on first use in that loop).

        A client passed as ``http_async_client`` is used whatever the loop (it is yours).
        """
        import asyncio  # here: a sync-only program never loads asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            self._async = [(lp, c) for lp, c in self._async if not lp.is_closed()]
            if self._http_async_client is not None and self._async:
                return self._async[0][1]
            for known, client in self._async:
                if known is loop:
                    return client
            client = AsyncGatewayClient(
                self.config.gateway,
                http_client=self._http_async_client,
                **self.config.client_kwargs(),
            )
            self._async.append((loop, client))
            return client

    def close(self) -> None:
        """Close the sync client (async clients need :meth:`aclose`)."""
        with self._lock:
            sync, self._sync = self._sync, None
        if sync is not None:
            sync.close()

    async def aclose(self) -> None:
        """Close the sync client and the async client of the running loop."""
        self.close()
        import asyncio  # here: a sync-only program never loads asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            mine = [c for lp, c in self._async if lp is loop]
            self._async = [(lp, c) for lp, c in self._async if lp is not loop]
        for client in mine:
            await client.aclose()

    def __enter__(self) -> ClientPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ClientPair:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


_SHARED: OrderedDict[ClientConfig, ClientPair] = OrderedDict()
_SHARED_LOCK = threading.Lock()


def shared_clients(config: ClientConfig) -> ClientPair:
    """The process-wide :class:`ClientPair` for ``config`` (equal configurations share it).

    The cache keeps the :data:`SHARED_CLIENTS_MAX` most recently used configurations; a pair
    dropped from it stays usable by whoever holds it.
    """
    with _SHARED_LOCK:
        pair = _SHARED.get(config)
        if pair is None:
            pair = _SHARED[config] = ClientPair(config)
            while len(_SHARED) > SHARED_CLIENTS_MAX:
                _SHARED.popitem(last=False)
        else:
            _SHARED.move_to_end(config)
        return pair


def close_shared_clients() -> None:
    """Close and forget every shared sync client (async ones are dropped with their loops)."""
    with _SHARED_LOCK:
        pairs = list(_SHARED.values())
        _SHARED.clear()
    for pair in pairs:
        pair.close()


def clients_for(
    config: ClientConfig,
    *,
    http_client: httpx.Client | None = None,
    http_async_client: httpx.AsyncClient | None = None,
) -> ClientPair:
    """The clients an adapter object uses: the shared pair of ``config``, or a private pair
    around the httpx client(s) its user passed (never shared, closed or changed by us)."""
    if http_client is None and http_async_client is None:
        return shared_clients(config)
    return ClientPair(config, http_client=http_client, http_async_client=http_async_client)
