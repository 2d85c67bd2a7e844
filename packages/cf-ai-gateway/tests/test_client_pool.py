"""Pooled clients per configuration: shared, lazily built, per event loop, never leaking a key."""

from __future__ import annotations

import asyncio
import gc
import threading

import httpx
import pytest
from _cf_core_helpers import PROVIDER_KEY
from cf_ai_gateway import (
    ClientConfig,
    ClientPair,
    Gateway,
    GatewayOptions,
    close_shared_clients,
    shared_clients,
)
from cf_ai_gateway.client_pool import SHARED_CLIENTS_MAX


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    close_shared_clients()


def config(gateway: Gateway, **kw: object) -> ClientConfig:
    return ClientConfig(gateway, api_key=PROVIDER_KEY, **kw)  # type: ignore[arg-type]


def test_equal_configurations_share_one_pair(gateway: Gateway) -> None:
    first = shared_clients(config(gateway))
    same = shared_clients(config(Gateway(**{**gateway.__dict__})))
    assert first is same
    assert first.sync() is same.sync()
    assert shared_clients(config(gateway, max_retries=0)) is not first
    assert shared_clients(config(gateway, surface="provider")) is not first
    assert shared_clients(config(gateway.with_options(GatewayOptions(cache_ttl=60)))) is not first


def test_an_httpx_timeout_is_part_of_the_configuration(gateway: Gateway) -> None:
    first = shared_clients(config(gateway, timeout=httpx.Timeout(60, connect=3)))
    assert shared_clients(config(gateway, timeout=httpx.Timeout(60, connect=3))) is first
    assert shared_clients(config(gateway, timeout=httpx.Timeout(60, connect=5))) is not first
    assert first.sync().timeout == httpx.Timeout(60, connect=3)
    # the mapping a serialized model holds reads back as the same configuration
    again = config(gateway, timeout=httpx.Timeout(60, connect=3).as_dict())
    assert shared_clients(again) is first


@pytest.mark.parametrize("timeout", [0, -2.5, "60", (3, 60)])
def test_a_bad_timeout_is_refused_by_the_configuration(gateway: Gateway, timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout="):
        config(gateway, timeout=timeout)


def test_a_thousand_models_hold_one_pool(gateway: Gateway) -> None:
    pairs = {id(shared_clients(config(gateway))) for _ in range(1000)}
    assert len(pairs) == 1


def test_the_cache_is_bounded_and_dropped_pairs_still_work(gateway: Gateway) -> None:
    kept = shared_clients(config(gateway, timeout=1.0))
    for i in range(SHARED_CLIENTS_MAX + 5):
        shared_clients(config(gateway, timeout=2.0 + i))
    assert shared_clients(config(gateway, timeout=1.0)) is not kept
    assert kept.sync().gateway == gateway


def test_the_key_is_never_in_a_repr(gateway: Gateway) -> None:
    pair = shared_clients(config(gateway))
    assert PROVIDER_KEY not in repr(pair.config)
    assert PROVIDER_KEY not in repr(pair)


def test_sync_client_is_built_once_across_threads(gateway: Gateway) -> None:
    pair = ClientPair(config(gateway))
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(pair.sync())) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1
    pair.close()


def test_each_event_loop_gets_its_own_async_client(gateway: Gateway) -> None:
    pair = ClientPair(config(gateway))

    async def grab() -> object:
        client = pair.async_client()
        assert client is pair.async_client()
        return client

    first = asyncio.run(grab())
    second = asyncio.run(grab())
    assert first is not second
    gc.collect()
    # the first loop is closed: its client was dropped when the second loop asked
    assert len(pair._async) == 1


def test_your_own_http_client_is_used_and_not_closed(gateway: Gateway) -> None:
    http = httpx.Client()
    pair = ClientPair(config(gateway), http_client=http)
    assert pair.sync()._http is http
    pair.close()
    assert not http.is_closed
    http.close()
    with pytest.raises(TypeError, match=r"httpx\.Client"):
        ClientPair(config(gateway), http_client=object())  # type: ignore[arg-type]


async def test_aclose_closes_the_running_loops_client(gateway: Gateway) -> None:
    pair = ClientPair(config(gateway))
    client = pair.async_client()
    await pair.aclose()
    assert client._http.is_closed
    assert pair.async_client() is not client


def test_bad_max_retries_is_named(gateway: Gateway) -> None:
    with pytest.raises(ValueError, match="max_retries=-1"):
        ClientConfig(gateway, max_retries=-1)


async def test_pairs_are_context_managers(gateway: Gateway) -> None:
    """Like the clients: ``with`` closes the sync client, ``async with`` the loop's too."""
    with ClientPair(config(gateway)) as pair:
        sync = pair.sync()
    assert sync._http.is_closed
    async with ClientPair(config(gateway)) as apair:
        client = apair.async_client()
    assert client._http.is_closed
    mine = httpx.Client()
    with ClientPair(config(gateway), http_client=mine) as private:
        private.sync()
    assert not mine.is_closed  # a client you pass is yours to close
    mine.close()
