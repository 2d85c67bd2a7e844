"""``ManagementClient`` and ``AsyncManagementClient``: Cloudflare's AI Gateway management API
(``{api}/accounts/{account_id}/ai-gateway/...``): gateways, logs, feedback and dynamic routes.

The same client talks to Cloudflare and to the local emulator, which serves the same subset on
its own origin. It authenticates with a Cloudflare **account API token** (``Authorization:
Bearer``; AI Gateway Read to look, Edit to change), which is not always the token an
authenticated gateway accepts in ``cf-aig-authorization`` (AI Gateway Run).

>>> from cf_ai_gateway import ManagementClient
>>> mgmt = ManagementClient.from_env()                                 # doctest: +SKIP
>>> for log in mgmt.list_logs(provider="openai", cached=False, limit=20):  # doctest: +SKIP
...     print(log.created_at, log.model, log.cache_status, log.metadata)
>>> mgmt.feedback(result.info.log_id, +1)                              # doctest: +SKIP

Errors are the core's (:mod:`cf_ai_gateway.errors`): a v4 error envelope maps by its code and
HTTP status (``GatewayAuthenticationError`` for a rejected token, ``GatewayNotFoundError`` for
an unknown gateway, ``BadRequestError`` for a wrong account id or a malformed request), and
the client retries 429/5xx and connection errors per its :class:`~cf_ai_gateway.RetryPolicy`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx

from . import wire
from ._requests import USER_AGENT, PreparedRequest
from ._responses import read_result
from ._retry_flow import asend_with_retries, send_with_retries
from .config import (
    ENV_ACCOUNT_ID,
    ENV_API_BASE_URL,
    ENV_GATEWAY_ID,
    ENV_GATEWAY_URL,
    ENV_TOKEN,
    Gateway,
    GatewayConfigError,
)
from .errors import ErrorContext, InvalidResponseError
from .management_models import (
    DynamicRoute,
    FilterValue,
    GatewaySettings,
    LogEntry,
    LogFilter,
    RouteDeployment,
    RouteVersion,
    format_timestamp,
    parse_since,
)
from .options import GatewayOptions, InvalidOptionError, MetadataValue
from .retry import RetryPolicy
from .wire import LogOrderDirection

__all__ = [
    "DEFAULT_MANAGEMENT_TIMEOUT",
    "ENV_API_TOKEN",
    "AsyncManagementClient",
    "DynamicRoute",
    "GatewaySettings",
    "LogEntry",
    "LogFilter",
    "ManagementClient",
    "RouteDeployment",
    "RouteVersion",
]

DEFAULT_MANAGEMENT_TIMEOUT = 30.0
"""Seconds for connect, read, write and pool on management calls."""

ENV_API_TOKEN = ("CF_API_TOKEN", "CLOUDFLARE_API_TOKEN", ENV_TOKEN[0])
"""Where :meth:`ManagementClient.from_env` looks for the token, in this order: an account API
token (``CF_API_TOKEN`` / ``CLOUDFLARE_API_TOKEN``) first, then ``CF_AIG_TOKEN``. The gateway
itself reads ``CF_AIG_TOKEN`` first, so a gateway token (AI Gateway Run) and an account token
(AI Gateway Read/Edit) can live side by side."""

Since = datetime | timedelta | str


def _env(names: Sequence[str], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _segment(value: object, what: str) -> str:
    """An id placed in the URL path: non-empty, one path segment, percent-encoded."""
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "/?#\r\n"):
        raise ValueError(f"{what}={value!r} must be a non-empty id without '/', '?' or '#'")
    return quote(value.strip(), safe="-_.~@")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _time_filter(key: str, operator: Literal["gt", "lt"], value: Since) -> LogFilter:
    return LogFilter(key, operator, (format_timestamp(parse_since(value)),))


@dataclass(frozen=True)
class _Paging:
    """A paginated list: its request for a page, and where its items are in the answer."""

    request: Callable[[int, int], PreparedRequest]
    items_key: str | None = None  # None: ``result`` itself is the list

    def items(self, body: Any) -> list[Any]:
        result = _result(body)
        if self.items_key and isinstance(result, Mapping):
            result = result.get(self.items_key)
        return list(result) if isinstance(result, list) else []

    @staticmethod
    def more(body: Any, page: int, per_page: int, got: int) -> bool:
        info = body.get("result_info") if isinstance(body, Mapping) else None
        total = info.get("total_count") if isinstance(info, Mapping) else None
        if isinstance(total, int) and not isinstance(total, bool):
            return page * per_page < total and got > 0
        return got >= per_page


def _result(body: Any) -> Any:
    """The payload of a v4 envelope (``result``), or of the dynamic-routes shape (``data``)."""
    if isinstance(body, Mapping):
        if body.get("success") is False:
            errors = body.get("errors") or body.get("error") or []
            raise InvalidResponseError(
                f"the management API answered 2xx with success=false: {errors!r}"[:500]
            )
        if "result" in body:
            return body["result"]
        if "data" in body:
            return body["data"]
    return body


class _Api:
    """The management API's requests and answers, shared by both clients (no I/O)."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        gateway_id: str | None,
        api_base_url: str,
    ) -> None:
        # Gateway validates the ids, the token and the base URL the same way everywhere.
        probe = Gateway(
            account_id=account_id,
            gateway_id=gateway_id,
            token=api_token,
            api_base_url=api_base_url,
        )
        if not account_id:
            raise GatewayConfigError("account_id must be set for the management API")
        self.account_id: str = account_id
        self.gateway_id = gateway_id
        self.api_base_url = probe.api_base_url
        self._token = api_token
        self.root = probe.management_url()

    def gateway(self, gateway_id: str | None) -> str:
        chosen = gateway_id or self.gateway_id
        if not chosen:
            raise GatewayConfigError(
                "no gateway given: pass gateway_id=..., or create the client with "
                "gateway_id= (ManagementClient.from_env() reads CF_GATEWAY_ID or CF_AIG_URL)"
            )
        return _segment(chosen, "gateway_id")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> PreparedRequest:
        url = f"{self.root}/{path.strip('/')}" if path.strip("/") else self.root
        if params:
            query = {k: _query_value(v) for k, v in params.items() if v is not None}
            if query:
                url = f"{url}?{urlencode(query)}"
        headers = {
            "user-agent": USER_AGENT,
            "accept": "application/json",
            wire.H_API_AUTHORIZATION: f"Bearer {self._token}",
        }
        gateway = re.match(r"gateways/([^/?]+)", path.strip("/"))
        context = ErrorContext(
            "management", self.account_id, gateway[1] if gateway else self.gateway_id
        )
        return PreparedRequest(
            method.upper(),
            url,
            headers,
            json_body,
            (self._token,),
            source="management",
            context=context,
        )

    # --- gateways ---------------------------------------------------------------------------

    def gateways(self, search: str | None, per_page: int) -> _Paging:
        _check_per_page(per_page, 100)
        return _Paging(
            lambda page, size: self.request(
                "GET", "gateways", params={"page": page, "per_page": size, "search": search}
            )
        )

    # --- logs -------------------------------------------------------------------------------

    def logs_path(self, gateway_id: str | None, log_id: str | None = None) -> str:
        path = f"gateways/{self.gateway(gateway_id)}/logs"
        return f"{path}/{_segment(log_id, 'log_id')}" if log_id is not None else path

    def logs(
        self,
        gateway_id: str | None,
        filters: Sequence[LogFilter],
        search: str | None,
        order_by: str,
        direction: LogOrderDirection,
        per_page: int,
    ) -> _Paging:
        _check_per_page(per_page, wire.LOGS_PER_PAGE_MAX)
        if order_by not in wire.LOG_ORDER_BY:
            raise InvalidOptionError(
                "order_by", order_by, f"must be one of {', '.join(wire.LOG_ORDER_BY)}"
            )
        if direction not in ("asc", "desc"):
            raise InvalidOptionError("direction", direction, "must be 'asc' or 'desc'")
        path = self.logs_path(gateway_id)
        base: dict[str, Any] = {
            "search": search or None,
            "order_by": order_by,
            "order_by_direction": direction,
        }
        if filters:
            base["filters"] = [f.to_api() for f in filters]
        return _Paging(
            lambda page, size: self.request(
                "GET", path, params={**base, "page": page, "per_page": size}
            )
        )

    def update_log(
        self,
        log_id: str,
        gateway_id: str | None,
        *,
        feedback: int | None,
        score: float | None,
        metadata: Mapping[str, MetadataValue] | None,
    ) -> PreparedRequest:
        body: dict[str, Any] = {}
        if feedback is not None:
            if isinstance(feedback, bool) or feedback not in wire.LOG_FEEDBACK_VALUES:
                raise InvalidOptionError(
                    "feedback", feedback, "must be -1 (thumbs down), 1 (thumbs up) or 0 (clear)"
                )
            body["feedback"] = feedback
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, (int, float)) or score != score:
                raise InvalidOptionError("score", score, "must be a number")
            body["score"] = score
        if metadata is not None:
            GatewayOptions(metadata=metadata)  # the gateway's metadata rules, checked once
            body["metadata"] = dict(metadata)
        if not body:
            raise ValueError("update_log needs feedback, score or metadata")
        return self.request("PATCH", self.logs_path(gateway_id, log_id), json_body=body)

    # --- dynamic routes ---------------------------------------------------------------------

    def routes_path(self, gateway_id: str | None, route_id: str | None = None) -> str:
        path = f"gateways/{self.gateway(gateway_id)}/routes"
        return f"{path}/{_segment(route_id, 'route_id')}" if route_id is not None else path


def _check_per_page(per_page: int, most: int) -> None:
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= most:
        raise InvalidOptionError("per_page", per_page, f"must be an integer from 1 to {most}")


def log_filters(
    *,
    filters: Sequence[LogFilter | Mapping[str, Any]] = (),
    provider: str | None = None,
    model: str | None = None,
    success: bool | None = None,
    cached: bool | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
    since: Since | None = None,
    until: Since | None = None,
) -> list[LogFilter]:
    """The logs API filters for the keyword arguments of :meth:`ManagementClient.list_logs`.

    ``metadata={"user": "u-42"}`` becomes Cloudflare's ``metadata.key`` / ``metadata.value``
    filters (which do not pair a key with its value: the client checks the pairs itself);
    ``since`` / ``until`` become ``created_at`` ``gt`` / ``lt`` filters."""
    out = [LogFilter.from_value(f) for f in filters]
    simple: tuple[tuple[str, FilterValue], ...] = (
        ("provider", provider),
        ("model", model),
        ("success", success),
        ("cached", cached),
    )
    for key, value in simple:
        if value is not None:
            out.append(LogFilter.eq(key, value))
    for key, value in (metadata or {}).items():
        out.append(LogFilter.eq("metadata.key", key))
        out.append(LogFilter.eq("metadata.value", value))
    if since is not None:
        out.append(_time_filter("created_at", "gt", since))
    if until is not None:
        out.append(_time_filter("created_at", "lt", until))
    return out


def _metadata_matches(entry: LogEntry, wanted: Mapping[str, MetadataValue] | None) -> bool:
    if not wanted:
        return True
    return all(
        key in entry.metadata and str(entry.metadata[key]).lower() == str(value).lower()
        for key, value in wanted.items()
    )


def _body_of(response: httpx.Response) -> Any:
    """A stored request/response body: JSON (unwrapped from a v4 envelope) or text."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return response.text
    if isinstance(data, Mapping) and "result" in data and "success" in data:
        return _result(data)
    return data


def _one(body: Any, what: str) -> Mapping[str, Any]:
    result = _result(body)
    if isinstance(result, list) and len(result) == 1:  # some endpoints wrap one item
        result = result[0]
    if not isinstance(result, Mapping):
        raise InvalidResponseError(f"the management API sent no {what} object: {result!r}"[:300])
    return result


def _items(body: Any, key: str) -> list[Mapping[str, Any]]:
    result = _result(body)
    if isinstance(result, Mapping):
        result = result.get(key)
    return [r for r in result if isinstance(r, Mapping)] if isinstance(result, list) else []


def _deleted(body: Any) -> int | None:
    result = _result(body)
    if isinstance(result, Mapping):
        count = result.get("deleted")
        if isinstance(count, int) and not isinstance(count, bool):
            return count
    return None


class _ClientBase:
    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        gateway_id: str | None,
        api_base_url: str,
        timeout: float | httpx.Timeout | None,
        retry: RetryPolicy | None,
    ) -> None:
        self._api = _Api(account_id, api_token, gateway_id=gateway_id, api_base_url=api_base_url)
        self.retry = retry if retry is not None else RetryPolicy()
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    @property
    def account_id(self) -> str:
        return self._api.account_id

    @property
    def gateway_id(self) -> str | None:
        """The gateway methods use when they are not given ``gateway_id=``."""
        return self._api.gateway_id

    @property
    def api_base_url(self) -> str:
        return self._api.api_base_url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(account_id={self.account_id!r}, "
            f"gateway_id={self.gateway_id!r}, api_base_url={self.api_base_url!r})"
        )

    __str__ = __repr__

    def _build(self, client: httpx.Client | httpx.AsyncClient, req: PreparedRequest) -> Any:
        return lambda: client.build_request(
            req.method, req.url, headers=req.headers, json=req.json, timeout=self.timeout
        )

    @classmethod
    def _settings_from_env(
        cls, environ: Mapping[str, str] | None, overrides: dict[str, Any]
    ) -> dict[str, Any]:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        url = _env(ENV_GATEWAY_URL, env)
        if url:
            gw = Gateway.from_url(url)
            values.update(
                account_id=gw.account_id,
                gateway_id=gw.gateway_id,
                api_base_url=gw.api_base_url,
            )
        for key, names in (
            ("account_id", ENV_ACCOUNT_ID),
            ("gateway_id", ENV_GATEWAY_ID),
            ("api_token", ENV_API_TOKEN),
            ("api_base_url", ENV_API_BASE_URL),
        ):
            value = _env(names, env)
            if value is not None:
                values[key] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        missing = [
            " or ".join(names)
            for key, names in (("account_id", ENV_ACCOUNT_ID), ("api_token", ENV_API_TOKEN))
            if not values.get(key)
        ]
        if missing:
            raise GatewayConfigError(
                f"the management API needs {'; '.join(missing)} (or {ENV_GATEWAY_URL[0]} for "
                "the account), or the values as arguments"
            )
        return values

    @staticmethod
    def _settings_from_gateway(gateway: Gateway, overrides: dict[str, Any]) -> dict[str, Any]:
        if not gateway.account_id:
            raise GatewayConfigError(
                "the management API needs the gateway's account_id (a custom-domain Gateway "
                "has none: pass account_id=...)"
            )
        if not gateway.token:
            raise GatewayConfigError(
                "the management API needs a Cloudflare API token (Gateway(token=...) or "
                f"{ENV_TOKEN[0]})"
            )
        values: dict[str, Any] = {
            "account_id": gateway.account_id,
            "api_token": gateway.token,
            "gateway_id": gateway.gateway_id,
            "api_base_url": gateway.api_base_url,
        }
        values.update(overrides)
        return values


class ManagementClient(_ClientBase):
    """Synchronous management API client. Reuse one instance (it pools connections); close it,
    or use it as a context manager.

    - ``account_id``, ``api_token``: the Cloudflare account and an account API token with AI
      Gateway Read (Edit to change anything). The token never appears in ``repr``, logs or
      errors.
    - ``gateway_id``: the gateway that log and route methods use by default.
    - ``api_base_url``: ``https://api.cloudflare.com/client/v4``, or the emulator's
      ``{origin}/client/v4``.
    - ``http_client``: your own ``httpx.Client`` (used as is, not closed by us).
    """

    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        gateway_id: str | None = None,
        api_base_url: str = wire.DEFAULT_API_BASE_URL,
        timeout: float | httpx.Timeout | None = DEFAULT_MANAGEMENT_TIMEOUT,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            account_id,
            api_token,
            gateway_id=gateway_id,
            api_base_url=api_base_url,
            timeout=timeout,
            retry=retry,
        )
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> ManagementClient:
        """From ``CF_ACCOUNT_ID`` (or the account in ``CF_AIG_URL``), the token in
        :data:`ENV_API_TOKEN` (``CF_API_TOKEN``, ``CLOUDFLARE_API_TOKEN``, then
        ``CF_AIG_TOKEN``), optionally ``CF_GATEWAY_ID`` (or the gateway in ``CF_AIG_URL``) and
        ``CF_AIG_API_BASE_URL`` (the host comes from ``CF_AIG_URL`` too, so an emulator URL
        points at the emulator); keyword arguments override them."""
        return cls(**cls._settings_from_env(environ, kwargs))

    @classmethod
    def from_gateway(cls, gateway: Gateway, **kwargs: Any) -> ManagementClient:
        """The account, token, gateway and API host of a :class:`~cf_ai_gateway.Gateway`
        (one built for the emulator points at the emulator's management API)."""
        return cls(**cls._settings_from_gateway(gateway, kwargs))

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- I/O --------------------------------------------------------------------------------

    def _response(self, req: PreparedRequest) -> httpx.Response:
        return send_with_retries(
            self._http, req, self.retry, self._build(self._http, req), self._sleep, stream=False
        )

    def _call(self, req: PreparedRequest) -> Any:
        return read_result(req, self._response(req)).data

    def _pages(self, paging: _Paging, per_page: int, limit: int | None) -> Iterator[Any]:
        page, seen = 1, 0
        size = min(per_page, limit) if limit else per_page
        while True:
            body = self._call(paging.request(page, size))
            items = paging.items(body)
            for item in items:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not items or not paging.more(body, page, size, len(items)):
                return
            page += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Any management endpoint, for what the typed methods do not cover: ``path`` is
        relative to ``.../accounts/{account_id}/ai-gateway/``; returns the decoded JSON body
        (the whole v4 envelope). Lists and dicts in ``params`` are sent as JSON."""
        return self._call(self._api.request(method, path, params=params, json_body=json))

    # --- gateways ---------------------------------------------------------------------------

    def list_gateways(
        self, *, search: str | None = None, per_page: int = 50, limit: int | None = None
    ) -> Iterator[GatewaySettings]:
        """Every gateway of the account (``search`` in the id), fetched page by page as the
        iterator advances."""
        for item in self._pages(self._api.gateways(search, per_page), per_page, limit):
            if isinstance(item, Mapping):
                yield GatewaySettings.from_api(item)

    def get_gateway(self, gateway_id: str | None = None) -> GatewaySettings:
        """One gateway's settings (``GatewayNotFoundError`` when it does not exist)."""
        path = f"gateways/{self._api.gateway(gateway_id)}"
        return GatewaySettings.from_api(_one(self._call(self._api.request("GET", path)), "gateway"))

    def create_gateway(self, settings: GatewaySettings) -> GatewaySettings:
        """Create a gateway with these settings; returns what the API stored."""
        req = self._api.request("POST", "gateways", json_body=settings.to_api())
        return GatewaySettings.from_api(_one(self._call(req), "gateway"))

    def update_gateway(self, settings: GatewaySettings) -> GatewaySettings:
        """Replace a gateway's settings with these (a full replace: start from
        :meth:`get_gateway` and ``settings.replace(...)``)."""
        body = settings.to_api()
        body.pop("id")
        path = f"gateways/{self._api.gateway(settings.id)}"
        return GatewaySettings.from_api(
            _one(self._call(self._api.request("PUT", path, json_body=body)), "gateway")
        )

    def delete_gateway(self, gateway_id: str) -> GatewaySettings:
        """Delete a gateway (with its logs); the id is required, never a default."""
        path = f"gateways/{_segment(gateway_id, 'gateway_id')}"
        return GatewaySettings.from_api(
            _one(self._call(self._api.request("DELETE", path)), "gateway")
        )

    # --- logs -------------------------------------------------------------------------------

    def list_logs(
        self,
        *,
        gateway_id: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        success: bool | None = None,
        cached: bool | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        since: Since | None = None,
        until: Since | None = None,
        filters: Sequence[LogFilter | Mapping[str, Any]] = (),
        search: str | None = None,
        order_by: str = "created_at",
        direction: LogOrderDirection = "desc",
        per_page: int = wire.LOGS_PER_PAGE_MAX,
        limit: int | None = None,
    ) -> Iterator[LogEntry]:
        """A gateway's logs, newest first by default, fetched page by page as the iterator
        advances (stop early with ``limit``).

        Filters combine with AND: ``provider``, ``model``, ``success``, ``cached``,
        ``metadata`` (every pair must match), ``since`` / ``until`` (a ``datetime``, a
        ``timedelta`` ago, ``"15m"``, ``"2h"``, ``"1d"`` or ISO 8601), and any
        :class:`LogFilter` in ``filters``; ``search`` is the API's free-text search."""
        chosen = log_filters(
            filters=filters,
            provider=provider,
            model=model,
            success=success,
            cached=cached,
            metadata=metadata,
            since=since,
            until=until,
        )
        paging = self._api.logs(gateway_id, chosen, search, order_by, direction, per_page)
        seen = 0
        for item in self._pages(paging, per_page, None if metadata else limit):
            if not isinstance(item, Mapping):
                continue
            entry = LogEntry.from_api(item)
            if _metadata_matches(entry, metadata):
                yield entry
                seen += 1
                if limit is not None and seen >= limit:
                    return

    def get_log(self, log_id: str, *, gateway_id: str | None = None) -> LogEntry:
        """One log entry."""
        req = self._api.request("GET", self._api.logs_path(gateway_id, log_id))
        return LogEntry.from_api(_one(self._call(req), "log"))

    def get_log_request(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The request body the gateway stored for a log (parsed JSON, or text);
        ``BadRequestError`` (HTTP 404) when payload collection was off."""
        path = f"{self._api.logs_path(gateway_id, log_id)}/request"
        return _body_of(self._response(self._api.request("GET", path)))

    def get_log_response(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The response body the gateway stored for a log (parsed JSON, or text)."""
        path = f"{self._api.logs_path(gateway_id, log_id)}/response"
        return _body_of(self._response(self._api.request("GET", path)))

    def update_log(
        self,
        log_id: str,
        *,
        gateway_id: str | None = None,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """Set a log's ``feedback`` (-1, 1, or 0 to clear), ``score`` and/or ``metadata``."""
        self._call(
            self._api.update_log(
                log_id, gateway_id, feedback=feedback, score=score, metadata=metadata
            )
        )

    def feedback(
        self, log_id: str, value: Literal[-1, 1], *, gateway_id: str | None = None
    ) -> None:
        """Thumbs up (``+1``) or down (``-1``) on a log: ``mgmt.feedback(info.log_id, +1)``."""
        if value not in (-1, 1) or isinstance(value, bool):
            raise InvalidOptionError("feedback", value, "must be -1 or +1")
        self.update_log(log_id, gateway_id=gateway_id, feedback=value)

    def score(self, log_id: str, value: float, *, gateway_id: str | None = None) -> None:
        """Attach a numeric score (an evaluation result, say) to a log."""
        self.update_log(log_id, gateway_id=gateway_id, score=value)

    def delete_logs(
        self,
        *,
        gateway_id: str | None = None,
        filters: Sequence[LogFilter | Mapping[str, Any]] = (),
        since: Since | None = None,
        until: Since | None = None,
        all_logs: bool = False,
    ) -> int | None:
        """Delete the logs matching every filter (``since``/``until`` as for
        :meth:`list_logs`); with no filter at all, ``all_logs=True`` is required. Returns the
        number deleted when the API says (the emulator does; Cloudflare answers success only)."""
        chosen = log_filters(filters=filters, since=since, until=until)
        if not chosen and not all_logs:
            raise ValueError(
                "delete_logs without a filter deletes every log of the gateway: pass "
                "all_logs=True to mean it"
            )
        params = {"filters": [f.to_api() for f in chosen]} if chosen else None
        req = self._api.request("DELETE", self._api.logs_path(gateway_id), params=params)
        return _deleted(self._call(req))

    # --- dynamic routes (read-only) ---------------------------------------------------------

    def list_routes(self, *, gateway_id: str | None = None) -> list[DynamicRoute]:
        """The gateway's dynamic routes."""
        body = self._call(self._api.request("GET", self._api.routes_path(gateway_id)))
        return [DynamicRoute.from_api(r) for r in _items(body, "routes")]

    def get_route(self, route_id: str, *, gateway_id: str | None = None) -> DynamicRoute:
        """One dynamic route (its id; on the emulator, its name)."""
        req = self._api.request("GET", self._api.routes_path(gateway_id, route_id))
        return DynamicRoute.from_api(_one(self._call(req), "route"))

    def list_route_versions(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteVersion]:
        """Every saved version of a dynamic route."""
        path = f"{self._api.routes_path(gateway_id, route_id)}/versions"
        body = self._call(self._api.request("GET", path))
        return [RouteVersion.from_api(v) for v in _items(body, "versions")]

    def get_route_version(
        self, route_id: str, version_id: str, *, gateway_id: str | None = None
    ) -> RouteVersion:
        """One version of a dynamic route, with its elements."""
        path = (
            f"{self._api.routes_path(gateway_id, route_id)}/versions/"
            f"{_segment(version_id, 'version_id')}"
        )
        return RouteVersion.from_api(_one(self._call(self._api.request("GET", path)), "version"))

    def list_route_deployments(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteDeployment]:
        """The deployments of a dynamic route (which version went live when)."""
        path = f"{self._api.routes_path(gateway_id, route_id)}/deployments"
        body = self._call(self._api.request("GET", path))
        return [RouteDeployment.from_api(d) for d in _items(body, "deployments")]


class AsyncManagementClient(_ClientBase):
    """The async twin of :class:`ManagementClient`, over ``httpx.AsyncClient``; ``list_*``
    iterators are async (``async for``)."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        gateway_id: str | None = None,
        api_base_url: str = wire.DEFAULT_API_BASE_URL,
        timeout: float | httpx.Timeout | None = DEFAULT_MANAGEMENT_TIMEOUT,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            account_id,
            api_token,
            gateway_id=gateway_id,
            api_base_url=api_base_url,
            timeout=timeout,
            retry=retry,
        )
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        import asyncio  # here, not at module level: sync-only users never pay for asyncio

        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> AsyncManagementClient:
        """Async :meth:`ManagementClient.from_env`."""
        return cls(**cls._settings_from_env(environ, kwargs))

    @classmethod
    def from_gateway(cls, gateway: Gateway, **kwargs: Any) -> AsyncManagementClient:
        """Async :meth:`ManagementClient.from_gateway`."""
        return cls(**cls._settings_from_gateway(gateway, kwargs))

    async def aclose(self) -> None:
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncManagementClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- I/O --------------------------------------------------------------------------------

    async def _response(self, req: PreparedRequest) -> httpx.Response:
        return await asend_with_retries(
            self._http, req, self.retry, self._build(self._http, req), self._sleep, stream=False
        )

    async def _call(self, req: PreparedRequest) -> Any:
        return read_result(req, await self._response(req)).data

    async def _pages(self, paging: _Paging, per_page: int, limit: int | None) -> AsyncIterator[Any]:
        page, seen = 1, 0
        size = min(per_page, limit) if limit else per_page
        while True:
            body = await self._call(paging.request(page, size))
            items = paging.items(body)
            for item in items:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not items or not paging.more(body, page, size, len(items)):
                return
            page += 1

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Async :meth:`ManagementClient.request`."""
        return await self._call(self._api.request(method, path, params=params, json_body=json))

    # --- gateways ---------------------------------------------------------------------------

    async def list_gateways(
        self, *, search: str | None = None, per_page: int = 50, limit: int | None = None
    ) -> AsyncIterator[GatewaySettings]:
        """Async :meth:`ManagementClient.list_gateways`."""
        async for item in self._pages(self._api.gateways(search, per_page), per_page, limit):
            if isinstance(item, Mapping):
                yield GatewaySettings.from_api(item)

    async def get_gateway(self, gateway_id: str | None = None) -> GatewaySettings:
        """Async :meth:`ManagementClient.get_gateway`."""
        path = f"gateways/{self._api.gateway(gateway_id)}"
        body = await self._call(self._api.request("GET", path))
        return GatewaySettings.from_api(_one(body, "gateway"))

    async def create_gateway(self, settings: GatewaySettings) -> GatewaySettings:
        """Async :meth:`ManagementClient.create_gateway`."""
        req = self._api.request("POST", "gateways", json_body=settings.to_api())
        return GatewaySettings.from_api(_one(await self._call(req), "gateway"))

    async def update_gateway(self, settings: GatewaySettings) -> GatewaySettings:
        """Async :meth:`ManagementClient.update_gateway`."""
        body = settings.to_api()
        body.pop("id")
        path = f"gateways/{self._api.gateway(settings.id)}"
        result = await self._call(self._api.request("PUT", path, json_body=body))
        return GatewaySettings.from_api(_one(result, "gateway"))

    async def delete_gateway(self, gateway_id: str) -> GatewaySettings:
        """Async :meth:`ManagementClient.delete_gateway`."""
        path = f"gateways/{_segment(gateway_id, 'gateway_id')}"
        body = await self._call(self._api.request("DELETE", path))
        return GatewaySettings.from_api(_one(body, "gateway"))

    # --- logs -------------------------------------------------------------------------------

    async def list_logs(
        self,
        *,
        gateway_id: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        success: bool | None = None,
        cached: bool | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        since: Since | None = None,
        until: Since | None = None,
        filters: Sequence[LogFilter | Mapping[str, Any]] = (),
        search: str | None = None,
        order_by: str = "created_at",
        direction: LogOrderDirection = "desc",
        per_page: int = wire.LOGS_PER_PAGE_MAX,
        limit: int | None = None,
    ) -> AsyncIterator[LogEntry]:
        """Async :meth:`ManagementClient.list_logs` (``async for``)."""
        chosen = log_filters(
            filters=filters,
            provider=provider,
            model=model,
            success=success,
            cached=cached,
            metadata=metadata,
            since=since,
            until=until,
        )
        paging = self._api.logs(gateway_id, chosen, search, order_by, direction, per_page)
        seen = 0
        async for item in self._pages(paging, per_page, None if metadata else limit):
            if not isinstance(item, Mapping):
                continue
            entry = LogEntry.from_api(item)
            if _metadata_matches(entry, metadata):
                yield entry
                seen += 1
                if limit is not None and seen >= limit:
                    return

    async def get_log(self, log_id: str, *, gateway_id: str | None = None) -> LogEntry:
        """Async :meth:`ManagementClient.get_log`."""
        req = self._api.request("GET", self._api.logs_path(gateway_id, log_id))
        return LogEntry.from_api(_one(await self._call(req), "log"))

    async def get_log_request(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """Async :meth:`ManagementClient.get_log_request`."""
        path = f"{self._api.logs_path(gateway_id, log_id)}/request"
        return _body_of(await self._response(self._api.request("GET", path)))

    async def get_log_response(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """Async :meth:`ManagementClient.get_log_response`."""
        path = f"{self._api.logs_path(gateway_id, log_id)}/response"
        return _body_of(await self._response(self._api.request("GET", path)))

    async def update_log(
        self,
        log_id: str,
        *,
        gateway_id: str | None = None,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """Async :meth:`ManagementClient.update_log`."""
        await self._call(
            self._api.update_log(
                log_id, gateway_id, feedback=feedback, score=score, metadata=metadata
            )
        )

    async def feedback(
        self, log_id: str, value: Literal[-1, 1], *, gateway_id: str | None = None
    ) -> None:
        """Async :meth:`ManagementClient.feedback`."""
        if value not in (-1, 1) or isinstance(value, bool):
            raise InvalidOptionError("feedback", value, "must be -1 or +1")
        await self.update_log(log_id, gateway_id=gateway_id, feedback=value)

    async def score(self, log_id: str, value: float, *, gateway_id: str | None = None) -> None:
        """Async :meth:`ManagementClient.score`."""
        await self.update_log(log_id, gateway_id=gateway_id, score=value)

    async def delete_logs(
        self,
        *,
        gateway_id: str | None = None,
        filters: Sequence[LogFilter | Mapping[str, Any]] = (),
        since: Since | None = None,
        until: Since | None = None,
        all_logs: bool = False,
    ) -> int | None:
        """Async :meth:`ManagementClient.delete_logs`."""
        chosen = log_filters(filters=filters, since=since, until=until)
        if not chosen and not all_logs:
            raise ValueError(
                "delete_logs without a filter deletes every log of the gateway: pass "
                "all_logs=True to mean it"
            )
        params = {"filters": [f.to_api() for f in chosen]} if chosen else None
        req = self._api.request("DELETE", self._api.logs_path(gateway_id), params=params)
        return _deleted(await self._call(req))

    # --- dynamic routes (read-only) ---------------------------------------------------------

    async def list_routes(self, *, gateway_id: str | None = None) -> list[DynamicRoute]:
        """Async :meth:`ManagementClient.list_routes`."""
        body = await self._call(self._api.request("GET", self._api.routes_path(gateway_id)))
        return [DynamicRoute.from_api(r) for r in _items(body, "routes")]

    async def get_route(self, route_id: str, *, gateway_id: str | None = None) -> DynamicRoute:
        """Async :meth:`ManagementClient.get_route`."""
        req = self._api.request("GET", self._api.routes_path(gateway_id, route_id))
        return DynamicRoute.from_api(_one(await self._call(req), "route"))

    async def list_route_versions(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteVersion]:
        """Async :meth:`ManagementClient.list_route_versions`."""
        path = f"{self._api.routes_path(gateway_id, route_id)}/versions"
        body = await self._call(self._api.request("GET", path))
        return [RouteVersion.from_api(v) for v in _items(body, "versions")]

    async def get_route_version(
        self, route_id: str, version_id: str, *, gateway_id: str | None = None
    ) -> RouteVersion:
        """Async :meth:`ManagementClient.get_route_version`."""
        path = (
            f"{self._api.routes_path(gateway_id, route_id)}/versions/"
            f"{_segment(version_id, 'version_id')}"
        )
        body = await self._call(self._api.request("GET", path))
        return RouteVersion.from_api(_one(body, "version"))

    async def list_route_deployments(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteDeployment]:
        """Async :meth:`ManagementClient.list_route_deployments`."""
        path = f"{self._api.routes_path(gateway_id, route_id)}/deployments"
        body = await self._call(self._api.request("GET", path))
        return [RouteDeployment.from_api(d) for d in _items(body, "deployments")]
