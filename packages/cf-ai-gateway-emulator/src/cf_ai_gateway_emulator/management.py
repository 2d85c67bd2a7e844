"""The management API subset under ``/client/v4/accounts/{account}/ai-gateway/``, in the v4
envelope ``{"success", "errors", "messages", "result", "result_info"}``.

Gateways: list/get/create/update (PUT is a full replace)/delete. Logs: list (``page``,
``per_page``, ``search``, ``order_by``, ``order_by_direction``, ``filters`` JSON with
``eq neq contains lt gt``), get, patch (``feedback`` -1/1, ``score``, ``metadata``), delete
(with ``filters``; metadata is filtered by ``metadata.key`` / ``metadata.value`` as on
Cloudflare, and by ``metadata.<name>`` as an emulator shorthand), and the request/response
bodies. Routes: list/get (by id or name)/create/delete, their versions and deployments (each
create of a route name is a new version, deployed at once). An account the emulator does not
hold answers 7003 "Could not route to ...", as Cloudflare does for a wrong account id.
Authentication: ``Authorization: Bearer <account API token>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cf_ai_gateway import wire
from cf_ai_gateway.jsonsafe import parse_json
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import log_index, log_query
from .config import ConfigError, GatewaySettings
from .dynamic_routes import api_elements, deployment_of, parse_route, route_id
from .errors import Rejection, answers_rejections
from .pipeline import bearer
from .state import EmulatorState
from .storage import LogSelection
from .surfaces.incoming import read_body

__all__ = ["ROUTES"]

ORDER_BY = log_index.ORDERED
OPERATORS = ("eq", "neq", "contains", "lt", "gt")


def envelope(
    result: Any,
    status: int = 200,
    result_info: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = dict(result_info)
    return JSONResponse(body, status_code=status)


def _auth(request: Request) -> tuple[EmulatorState, str]:
    state = EmulatorState.of(request)
    account = request.path_params["account"]
    if state.account(account) is None:
        raise Rejection.api(
            wire.CODE_API_COULD_NOT_ROUTE,
            f"Could not route to /accounts/{account}/ai-gateway, perhaps your object identifier "
            "is invalid? (the emulator holds no such account)",
            400,
        )
    if not state.token_ok(account, bearer(request.headers.get("authorization"))):
        raise Rejection.api(wire.CODE_API_AUTHENTICATION, "Authentication error", 401)
    return state, account


def _gateway(state: EmulatorState, account: str, gateway_id: str) -> GatewaySettings:
    gw = state.get_gateway(account, gateway_id)
    if gw is None:
        raise Rejection.api(wire.CODE_GATEWAY_NOT_FOUND, f"gateway {gateway_id!r} not found", 404)
    return gw


async def _body(request: Request) -> Any:
    try:
        return parse_json(await read_body(request, api=True) or b"null")
    except ValueError:
        raise Rejection.api(
            wire.CODE_API_INVALID_REQUEST, "the request body is not valid JSON", 400
        ) from None


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Rejection.api(
            wire.CODE_API_INVALID_REQUEST, f"{name}={raw!r} must be an integer", 400
        ) from None
    if not lo <= value <= hi:
        raise Rejection.api(
            wire.CODE_API_INVALID_REQUEST, f"{name}={value} must be from {lo} to {hi}", 400
        )
    return value


# --- gateways --------------------------------------------------------------------------------


@answers_rejections
async def list_gateways(request: Request) -> Response:
    state, account = _auth(request)
    page = _int_param(request, "page", 1, 1, 10**6)
    per_page = _int_param(request, "per_page", 20, 1, 100)
    search = request.query_params.get("search", "").lower()
    gateways = [
        gw.to_api()
        for gw in sorted(
            state.accounts[account].gateways.values(), key=lambda g: g.created_at + g.id
        )
        if search in gw.id.lower()
    ]
    items = gateways[(page - 1) * per_page : page * per_page]
    return envelope(
        items,
        result_info={
            "page": page,
            "per_page": per_page,
            "count": len(items),
            "total_count": len(gateways),
        },
    )


def _settings(gateway_id: str, data: Any) -> GatewaySettings:
    if not isinstance(data, Mapping):
        raise Rejection.api(wire.CODE_API_INVALID_REQUEST, "the body must be a JSON object", 400)
    try:
        return GatewaySettings.from_mapping(gateway_id, data, "body", allow_readonly=True)
    except ConfigError as exc:
        raise Rejection.api(wire.CODE_API_INVALID_REQUEST, str(exc), 400) from None


@answers_rejections
async def create_gateway(request: Request) -> Response:
    state, account = _auth(request)
    data = await _body(request)
    gateway_id = data.get("id") if isinstance(data, Mapping) else None
    settings = _settings(str(gateway_id or ""), data)
    try:
        stored = state.put_gateway(account, settings, create=True)
    except KeyError:
        raise Rejection.api(
            wire.CODE_API_CONFLICT, f"gateway {settings.id!r} already exists", 409
        ) from None
    return envelope(stored.to_api())


@answers_rejections
async def get_gateway(request: Request) -> Response:
    state, account = _auth(request)
    return envelope(_gateway(state, account, request.path_params["gateway"]).to_api())


@answers_rejections
async def update_gateway(request: Request) -> Response:
    state, account = _auth(request)
    gateway_id = request.path_params["gateway"]
    _gateway(state, account, gateway_id)
    data = await _body(request)
    if isinstance(data, Mapping) and data.get("id", gateway_id) != gateway_id:
        raise Rejection.api(wire.CODE_API_INVALID_REQUEST, "the body's id must match the URL", 400)
    stored = state.put_gateway(account, _settings(gateway_id, data))
    return envelope(stored.to_api())


@answers_rejections
async def delete_gateway(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    state.delete_gateway(account, gateway.id)
    return envelope(gateway.to_api())


# --- logs ------------------------------------------------------------------------------------


def _filters(request: Request) -> list[dict[str, Any]]:
    raw = request.query_params.get("filters")
    if not raw:
        return []
    try:
        filters = json.loads(raw)
    except ValueError:
        raise Rejection.api(
            wire.CODE_API_INVALID_REQUEST, "filters must be a JSON array", 400
        ) from None
    if isinstance(filters, dict):
        filters = [filters]
    if not isinstance(filters, list):
        raise Rejection.api(wire.CODE_API_INVALID_REQUEST, "filters must be a JSON array", 400)
    for f in filters:
        if (
            not isinstance(f, Mapping)
            or not isinstance(f.get("key"), str)
            or f.get("operator") not in OPERATORS
        ):
            raise Rejection.api(
                wire.CODE_API_INVALID_REQUEST,
                f"filter {f!r} needs 'key', 'operator' ({'|'.join(OPERATORS)}) and 'value'",
                400,
            )
    return filters


def _selection(
    request: Request, order_by: str = "created_at", direction: str = "desc"
) -> LogSelection:
    """The logs a listing (or a delete) selects, as SQL over storage's log columns."""
    search = request.query_params.get("search", "").lower()
    return log_query.selection(_filters(request), search, order_by, direction)


@answers_rejections
async def list_logs(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    page = _int_param(request, "page", 1, 1, 10**6)
    per_page = _int_param(request, "per_page", 20, 1, 50)
    order_by = request.query_params.get("order_by", "created_at")
    direction = request.query_params.get("order_by_direction", "desc")
    if order_by not in ORDER_BY:
        raise Rejection.api(
            wire.CODE_API_INVALID_REQUEST, f"order_by must be one of {', '.join(ORDER_BY)}", 400
        )
    if direction not in ("asc", "desc"):
        raise Rejection.api(
            wire.CODE_API_INVALID_REQUEST, "order_by_direction must be asc or desc", 400
        )
    items, total = state.storage.select_logs(
        account,
        gateway.id,
        _selection(request, order_by, direction),
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    return envelope(
        items,
        result_info={
            "page": page,
            "per_page": per_page,
            "count": len(items),
            "total_count": total,
        },
    )


@answers_rejections
async def delete_logs(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    if request.query_params.get("filters"):
        deleted = state.storage.delete_selected(account, gateway.id, _selection(request))
    else:
        deleted = state.storage.delete_logs(account, gateway.id)
    return envelope({"deleted": deleted})


def _log(state: EmulatorState, account: str, request: Request) -> dict[str, Any]:
    gateway = _gateway(state, account, request.path_params["gateway"])
    log = state.storage.get_log(account, gateway.id, request.path_params["log_id"])
    if log is None:
        raise Rejection.api(wire.CODE_API_LOG_NOT_FOUND, "log not found", 404)
    return log


@answers_rejections
async def get_log(request: Request) -> Response:
    state, account = _auth(request)
    return envelope(_log(state, account, request))


@answers_rejections
async def patch_log(request: Request) -> Response:
    state, account = _auth(request)
    log = _log(state, account, request)
    data = await _body(request)
    if not isinstance(data, Mapping):
        raise Rejection.api(wire.CODE_API_INVALID_REQUEST, "the body must be a JSON object", 400)
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "feedback":
            if value not in (-1, 0, 1) or isinstance(value, bool):
                raise Rejection.api(
                    wire.CODE_API_INVALID_REQUEST, "feedback must be -1, 0 or 1", 400
                )
            changes["feedback"] = value
        elif key == "score":
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not 0 <= value <= 100
            ):
                raise Rejection.api(
                    wire.CODE_API_INVALID_REQUEST, "score must be a number from 0 to 100", 400
                )
            changes["score"] = value
        elif key == "metadata":
            if not isinstance(value, Mapping):
                raise Rejection.api(
                    wire.CODE_API_INVALID_REQUEST, "metadata must be an object", 400
                )
            changes["metadata"] = json.dumps(dict(value))
        else:
            raise Rejection.api(
                wire.CODE_API_INVALID_REQUEST,
                f"{key!r} cannot be patched (feedback, score, metadata)",
                400,
            )
    updated = state.storage.update_log(account, request.path_params["gateway"], log["id"], changes)
    return envelope(updated)


@answers_rejections
async def log_body(request: Request) -> Response:
    state, account = _auth(request)
    log = _log(state, account, request)
    which = request.path_params["which"]
    if which not in ("request", "response"):
        raise Rejection.api(
            wire.CODE_API_LOG_BODY_NOT_FOUND,
            f"unknown log resource {which!r} (request, response)",
            404,
        )
    _, body = state.storage.get_log_body(account, request.path_params["gateway"], log["id"], which)
    if body is None:
        raise Rejection.api(
            wire.CODE_API_LOG_BODY_NOT_FOUND,
            f"the log has no {which} body (payload collection was off)",
            404,
        )
    try:
        return envelope(json.loads(body))
    except ValueError:
        return envelope(body)


# --- dynamic routes --------------------------------------------------------------------------


def _route(gateway: GatewaySettings, key: str) -> tuple[str, Mapping[str, Any]]:
    """A route by name, or by the id the API gives it."""
    if key in gateway.routes:
        return key, gateway.routes[key]
    for name, route in gateway.routes.items():
        if route_id(gateway.id, name) == key:
            return name, route
    raise Rejection.api(wire.CODE_API_ROUTE_NOT_FOUND, f"route {key!r} not found", 404)


def _route_versions(
    state: EmulatorState, account: str, gateway: GatewaySettings, name: str
) -> list[dict[str, Any]]:
    return state.route_versions(account, gateway, name)


def _route_api(
    state: EmulatorState, account: str, gateway: GatewaySettings, name: str
) -> dict[str, Any]:
    route = gateway.routes[name]
    versions = _route_versions(state, account, gateway, name)
    current = versions[-1]
    return {
        "id": route_id(gateway.id, name),
        "name": name,
        "gateway_id": gateway.id,
        "elements": api_elements(route),
        "version": {k: v for k, v in current.items() if k != "elements"},
        "deployment": deployment_of(current),
        "created_at": versions[0]["created_at"],
        "modified_at": current["created_at"],
    }


@answers_rejections
async def list_routes(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    routes = [_route_api(state, account, gateway, name) for name in gateway.routes]
    return envelope(
        routes,
        result_info={
            "page": 1,
            "per_page": len(routes),
            "count": len(routes),
            "total_count": len(routes),
        },
    )


@answers_rejections
async def create_route(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    try:
        route = parse_route(await _body(request), "body")
    except ConfigError as exc:
        raise Rejection.api(wire.CODE_API_INVALID_REQUEST, str(exc), 400) from None
    stored = state.put_gateway(
        account, gateway.with_routes({**gateway.routes, route["name"]: route})
    )
    return envelope(_route_api(state, account, stored, route["name"]))


@answers_rejections
async def get_route(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    name, _ = _route(gateway, request.path_params["route"])
    return envelope(_route_api(state, account, gateway, name))


@answers_rejections
async def list_route_versions(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    name, _ = _route(gateway, request.path_params["route"])
    versions = _route_versions(state, account, gateway, name)
    return envelope([{k: v for k, v in ver.items() if k != "elements"} for ver in versions])


@answers_rejections
async def get_route_version(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    name, _ = _route(gateway, request.path_params["route"])
    wanted = request.path_params["version"]
    for version in _route_versions(state, account, gateway, name):
        if version["version_id"] == wanted:
            return envelope(version)
    raise Rejection.api(wire.CODE_API_ROUTE_NOT_FOUND, f"version {wanted!r} not found", 404)


@answers_rejections
async def list_route_deployments(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    name, _ = _route(gateway, request.path_params["route"])
    versions = _route_versions(state, account, gateway, name)
    return envelope([deployment_of(v) for v in reversed(versions)])


@answers_rejections
async def delete_route(request: Request) -> Response:
    state, account = _auth(request)
    gateway = _gateway(state, account, request.path_params["gateway"])
    name, _ = _route(gateway, request.path_params["route"])
    routes = {k: v for k, v in gateway.routes.items() if k != name}
    state.put_gateway(account, replace(gateway, routes=routes))
    state.forget_route(account, gateway.id, name)
    return envelope({"id": route_id(gateway.id, name), "name": name})


_BASE = "/client/v4/accounts/{account}/ai-gateway"
ROUTES: list[tuple[str, Any, list[str]]] = [
    (f"{_BASE}/gateways", list_gateways, ["GET"]),
    (f"{_BASE}/gateways", create_gateway, ["POST"]),
    (f"{_BASE}/gateways/{{gateway}}", get_gateway, ["GET"]),
    (f"{_BASE}/gateways/{{gateway}}", update_gateway, ["PUT"]),
    (f"{_BASE}/gateways/{{gateway}}", delete_gateway, ["DELETE"]),
    (f"{_BASE}/gateways/{{gateway}}/logs", list_logs, ["GET"]),
    (f"{_BASE}/gateways/{{gateway}}/logs", delete_logs, ["DELETE"]),
    (f"{_BASE}/gateways/{{gateway}}/logs/{{log_id}}", get_log, ["GET"]),
    (f"{_BASE}/gateways/{{gateway}}/logs/{{log_id}}", patch_log, ["PATCH"]),
    (f"{_BASE}/gateways/{{gateway}}/logs/{{log_id}}/{{which:str}}", log_body, ["GET"]),
    (f"{_BASE}/gateways/{{gateway}}/routes", list_routes, ["GET"]),
    (f"{_BASE}/gateways/{{gateway}}/routes", create_route, ["POST"]),
    (f"{_BASE}/gateways/{{gateway}}/routes/{{route}}", get_route, ["GET"]),
    (f"{_BASE}/gateways/{{gateway}}/routes/{{route}}", delete_route, ["DELETE"]),
    (f"{_BASE}/gateways/{{gateway}}/routes/{{route}}/versions", list_route_versions, ["GET"]),
    (
        f"{_BASE}/gateways/{{gateway}}/routes/{{route}}/versions/{{version}}",
        get_route_version,
        ["GET"],
    ),
    (
        f"{_BASE}/gateways/{{gateway}}/routes/{{route}}/deployments",
        list_route_deployments,
        ["GET"],
    ),
]
