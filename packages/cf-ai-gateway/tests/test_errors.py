from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from _cf_core_helpers import PROVIDER_KEY, TOKEN
from cf_ai_gateway import (
    BadRequestError,
    ByokCredentialError,
    ContentBlockedError,
    DLPBlockedError,
    GatewayAuthenticationError,
    GatewayConnectionError,
    GatewayError,
    GatewayNotFoundError,
    GatewayTimeoutError,
    GuardrailsBlockedError,
    GuardrailsUnavailableError,
    InsufficientBalanceError,
    InvalidResponseError,
    ModelNotFoundError,
    ProviderAuthenticationError,
    ProviderError,
    RateLimitError,
    SpendLimitError,
    StreamInterruptedError,
)
from cf_ai_gateway.errors import (
    RETRYABLE_STATUSES,
    ErrorContext,
    error_from_response,
    gateway_error_body,
    parse_retry_after,
    redact,
)


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


OLD_2009 = {
    "success": False,
    "result": [],
    "messages": [],
    "error": [{"code": 2009, "message": "Unauthorized"}],
}


def newer(code: int, message: str, http: int) -> dict[str, Any]:
    # the observed newer shape, independent of gateway_error_body
    return {
        "success": False,
        "error": [{"code": code, "message": message}],
        "name": "AiGatewayError",
        "httpCode": http,
        "internalCode": code,
        "message": message,
    }


def v4(code: int, message: str) -> dict[str, Any]:
    return {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
    }


ROUTE_MSG = (
    "Could not route to /client/v4/accounts/abc/ai/run/@cf/x, perhaps your object identifier "
    "is invalid?"
)

# (status, body, class, code, message, retryable)
GATEWAY_TABLE: list[tuple[int, dict[str, Any], type[GatewayError], int, str, bool]] = [
    (401, OLD_2009, GatewayAuthenticationError, 2009, "Unauthorized", False),
    (400, OLD_2009, GatewayAuthenticationError, 2009, "Unauthorized", False),
    (
        401,
        newer(2009, "Unauthorized", 401),
        GatewayAuthenticationError,
        2009,
        "Unauthorized",
        False,
    ),
    (
        400,
        newer(2001, "Please configure AI Gateway in the Cloudflare Dashboard", 400),
        GatewayNotFoundError,
        2001,
        "Please configure AI Gateway in the Cloudflare Dashboard",
        False,
    ),
    (
        402,
        newer(2005, "Insufficient balance", 402),
        InsufficientBalanceError,
        2005,
        "Insufficient balance",
        False,
    ),
    (
        402,
        newer(2021, "Guardrails need credits", 402),
        InsufficientBalanceError,
        2021,
        "Guardrails need credits",
        False,
    ),
    (
        424,
        newer(2016, "Prompt blocked due to security configurations", 424),
        GuardrailsBlockedError,
        2016,
        "Prompt blocked due to security configurations",
        False,
    ),
    (
        424,
        newer(2017, "Response blocked due to security configurations", 424),
        GuardrailsBlockedError,
        2017,
        "Response blocked due to security configurations",
        False,
    ),
    (
        400,
        newer(2029, "Request blocked by DLP", 400),
        DLPBlockedError,
        2029,
        "Request blocked by DLP",
        False,
    ),
    (
        400,
        newer(2030, "Response blocked by DLP", 400),
        DLPBlockedError,
        2030,
        "Response blocked by DLP",
        False,
    ),
    (
        400,
        newer(2040, "No key found for alias 'prod'", 400),
        ByokCredentialError,
        2040,
        "No key found for alias 'prod'",
        False,
    ),
    (
        400,
        newer(7000, "No route for that URI", 400),
        BadRequestError,
        7000,
        "No route for that URI",
        False,
    ),
    (
        404,
        newer(7003, "Could not route to model", 404),
        ModelNotFoundError,
        7003,
        "Could not route to model",
        False,
    ),
    (
        400,
        v4(7000, "No route for that URI"),
        BadRequestError,
        7000,
        "No route for that URI",
        False,
    ),
    (
        404,
        v4(7003, ROUTE_MSG),
        BadRequestError,
        7003,
        ROUTE_MSG,
        False,
    ),
    (
        429,
        newer(2041, "Spend limit exceeded", 429),
        SpendLimitError,
        2041,
        "Spend limit exceeded",
        False,
    ),
    (
        403,
        v4(10000, "Authentication error"),
        GatewayAuthenticationError,
        10000,
        "Authentication error",
        False,
    ),
    (
        503,
        newer(7013, "Guardrails scanner unavailable", 503),
        GuardrailsUnavailableError,
        7013,
        "Guardrails scanner unavailable",
        True,
    ),
    (429, newer(2003, "Rate limited", 429), RateLimitError, 2003, "Rate limited", True),
    (
        504,
        newer(2007, "Request timed out", 504),
        GatewayTimeoutError,
        2007,
        "Request timed out",
        True,
    ),
]


@pytest.mark.parametrize(
    ("status", "data", "cls", "code", "message", "retryable"),
    GATEWAY_TABLE,
    ids=[f"{row[3]}-{row[0]}" for row in GATEWAY_TABLE],
)
def test_gateway_errors_map_on_code_first(
    status: int,
    data: dict[str, Any],
    cls: type[GatewayError],
    code: int,
    message: str,
    retryable: bool,
) -> None:
    err = error_from_response(status, {"cf-aig-log-id": "log-1"}, body(data))
    assert type(err) is cls
    assert err.code == code
    assert err.status_code == status
    assert err.message == message
    assert err.retryable is retryable
    assert err.log_id == "log-1"
    assert err.info.status_code == status
    assert err.hint
    assert str(err) == f"{message} (HTTP {status}, code {code}, log id log-1). {err.hint}"


MANAGEMENT_ACCOUNT_MSG = (
    "Could not route to /accounts/nope/ai-gateway/gateways, perhaps your object identifier is "
    "invalid?"
)


@pytest.mark.parametrize(
    ("status", "data", "cls"),
    [
        (400, v4(7003, MANAGEMENT_ACCOUNT_MSG), BadRequestError),
        (404, v4(7000, "No route for that URI"), BadRequestError),
        (404, v4(2001, "gateway 'x' not found"), GatewayNotFoundError),
        (401, v4(10000, "Authentication error"), GatewayAuthenticationError),
        (403, v4(9109, "Unauthorized to access requested resource"), GatewayAuthenticationError),
        (404, v4(7005, "log not found"), BadRequestError),
        (429, v4(971, "Please wait and consider throttling your request speed"), RateLimitError),
        (500, v4(10001, "Internal error"), ProviderError),
    ],
)
def test_management_api_envelopes_map_by_code_then_status(
    status: int, data: dict[str, Any], cls: type[GatewayError]
) -> None:
    """On the management API 7000/7003 name a wrong path or account id, not a model."""
    err = error_from_response(status, {}, body(data), source="management")
    assert type(err) is cls
    assert err.code == data["errors"][0]["code"]
    assert err.message == data["errors"][0]["message"]


def test_7003_could_not_route_is_not_a_model_error() -> None:
    """ "Could not route to ..." names a path or an id (most often the account id)."""
    err = error_from_response(
        404, {}, body(v4(7003, ROUTE_MSG)), context=ErrorContext("rest", account_id="abc")
    )
    assert type(err) is BadRequestError
    assert "account id ('abc')" in str(err)
    said = error_from_response(404, {}, body(newer(7003, "Could not route to model x", 404)))
    assert type(said) is ModelNotFoundError


def test_gateway_error_body_shape_maps_back() -> None:
    data = gateway_error_body(2001, "no such gateway", 400)
    assert data["name"] == "AiGatewayError"
    assert data["internalCode"] == data["error"][0]["code"] == 2001
    err = error_from_response(400, {}, body(data))
    assert isinstance(err, GatewayNotFoundError)
    assert isinstance(err, BadRequestError)


def test_internal_code_only_shape() -> None:
    err = error_from_response(
        401, {}, body({"name": "AiGatewayError", "internalCode": 2009, "message": "nope"})
    )
    assert type(err) is GatewayAuthenticationError
    assert (err.code, err.message) == (2009, "nope")


@pytest.mark.parametrize(
    "data",
    [
        {"error": {"message": "Model not found: nobody/x", "type": "invalid_request_error",
                   "param": "model", "code": "model_not_found"}},
        {"type": "error", "error": {"type": "not_found_error",
                                    "message": "Model not found: moonshotai/kimi-k2.6"}},
    ],
    ids=["openai-schema", "anthropic-schema"],
)  # fmt: skip
def test_a_404_for_an_unknown_model_is_model_not_found(data: dict[str, Any]) -> None:
    err = error_from_response(404, {}, body(data))
    assert type(err) is ModelNotFoundError
    assert err.code is None
    assert "Model not found" in err.message


def test_other_404s_are_not_model_not_found() -> None:
    no_path = {"error": {"message": "no endpoint openai/x", "code": "unknown_url"}}
    assert type(error_from_response(404, {}, body(no_path))) is BadRequestError
    file_gone = {"type": "error", "error": {"type": "not_found_error", "message": "file-1"}}
    assert type(error_from_response(404, {}, body(file_gone))) is BadRequestError
    wrong_status = {"error": {"message": "Model not found", "code": "model_not_found"}}
    assert type(error_from_response(400, {}, body(wrong_status))) is BadRequestError


def test_hierarchy() -> None:
    assert issubclass(GuardrailsBlockedError, ContentBlockedError)
    assert issubclass(DLPBlockedError, ContentBlockedError)
    assert issubclass(StreamInterruptedError, GatewayConnectionError)
    assert issubclass(GuardrailsUnavailableError, ProviderError)
    for cls in (GatewayNotFoundError, ByokCredentialError, ModelNotFoundError):
        assert issubclass(cls, BadRequestError)
    for other in (RateLimitError, InvalidResponseError, GatewayTimeoutError, ProviderError):
        assert issubclass(other, GatewayError)


# --- 429 and Retry-After -------------------------------------------------------------------


def test_rate_limit_retry_after_seconds() -> None:
    err = error_from_response(429, {"Retry-After": "7"}, b"")
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7.0
    assert err.retryable is True
    assert err.message == "HTTP 429 from the gateway"
    assert err.body is None


def test_rate_limit_retry_after_http_date() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    err = error_from_response(429, {"retry-after": format_datetime(when, usegmt=True)}, b"{}")
    assert isinstance(err, RateLimitError)
    assert err.retry_after is not None
    assert 25 <= err.retry_after <= 31


def test_rate_limit_without_retry_after() -> None:
    err = error_from_response(429, {}, body({"error": {"message": "slow down"}}))
    assert isinstance(err, RateLimitError)
    assert err.retry_after is None
    assert err.message == "slow down"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("0", 0.0), ("-3", 0.0), ("1.5", 1.5), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)  # fmt: skip
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


# --- server retry signals on every status --------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retry_after_read_for_every_retryable_status(status: int) -> None:
    err = error_from_response(status, {"Retry-After": "2"}, body({"error": {"message": "m"}}))
    assert err.retryable is True
    assert err.retry_after == 2.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # milliseconds win
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),  # unparseable: next signal
        ({"retry-after-ms": "nan", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "-20"}, 0.0),
        ({"retry-after": "nan"}, None),
        ({"retry-after-ms": ""}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    assert error_from_response(503, headers, b"").retry_after == expected


def test_retry_after_http_date_on_503() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    err = error_from_response(503, {"retry-after": format_datetime(when, usegmt=True)}, b"")
    assert err.retry_after is not None
    assert 25 <= err.retry_after <= 31


@pytest.mark.parametrize(
    ("status", "value", "retryable"),
    [
        (503, "false", False),
        (503, "FALSE ", False),
        (429, "false", False),
        (400, "true", True),
        (401, "true", True),
        (503, "true", True),
        (400, "maybe", False),  # only true/false count
        (503, "", True),
    ],
)
def test_x_should_retry_overrides_the_status(status: int, value: str, retryable: bool) -> None:
    err = error_from_response(status, {"x-should-retry": value}, body({"error": {"message": "m"}}))
    assert err.retryable is retryable


def test_x_should_retry_keeps_the_class() -> None:
    err = error_from_response(400, {"X-Should-Retry": "true"}, body({"error": {"message": "m"}}))
    assert type(err) is BadRequestError
    assert err.retryable is True


def test_every_error_has_retry_after() -> None:
    assert GatewayError("x").retry_after is None
    assert ProviderError("x", retry_after=3).retry_after == 3
    assert RateLimitError("x", retry_after=4).retry_after == 4
    assert GatewayConnectionError("x").retry_after is None


# --- provider errors -----------------------------------------------------------------------


def test_openai_401_is_provider_authentication_and_keeps_type_code() -> None:
    data = {
        "error": {
            "message": f"Incorrect API key provided: {PROVIDER_KEY}. You can find your API key "
            "at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    err = error_from_response(401, {}, body(data), secrets=[PROVIDER_KEY])
    assert type(err) is ProviderAuthenticationError
    assert err.error_type == "invalid_request_error"
    assert err.provider_code == "invalid_api_key"
    assert err.code is None
    assert err.retryable is False
    assert err.message.startswith("Incorrect API key provided: ***.")
    for text in (str(err), repr(err), err.body or ""):
        assert PROVIDER_KEY not in text
        assert "sk-provider" not in text


def test_anthropic_529_overloaded_is_retryable_provider_error() -> None:
    data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    err = error_from_response(529, {}, body(data))
    assert type(err) is ProviderError
    assert err.message == "Overloaded"
    assert err.error_type == "overloaded_error"
    assert err.retryable is True
    assert 529 in RETRYABLE_STATUSES


def test_openai_500_is_retryable_provider_error() -> None:
    data = {"error": {"message": "The server had an error", "type": "server_error", "code": None}}
    err = error_from_response(500, {}, body(data))
    assert type(err) is ProviderError
    assert err.retryable is True
    assert err.provider_code is None
    assert err.error_type == "server_error"


def test_html_502_uses_title() -> None:
    html = (
        b"<!DOCTYPE html><html><head><title>502 Bad\n  Gateway</title></head>"
        b"<body><h1>Bad Gateway</h1></body></html>"
    )
    err = error_from_response(502, {"content-type": "text/html"}, html)
    assert type(err) is ProviderError
    assert err.message == "502 Bad Gateway (non-JSON body)"
    assert err.retryable is True
    assert err.body is not None
    assert err.body.startswith("<!DOCTYPE html>")


def test_plain_text_body() -> None:
    err = error_from_response(500, {}, b"upstream connect error")
    assert err.message == "HTTP 500 from the gateway (non-JSON body)"
    assert err.body == "upstream connect error"


@pytest.mark.parametrize("content", [b"", b"   "])
def test_empty_body(content: bytes) -> None:
    err = error_from_response(503, {}, content)
    assert type(err) is ProviderError
    assert err.message == "HTTP 503 from the gateway"
    assert err.retryable is True


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, BadRequestError, False),
        (404, BadRequestError, False),
        (413, BadRequestError, False),
        (422, BadRequestError, False),
        (401, ProviderAuthenticationError, False),
        (403, ProviderAuthenticationError, False),
        (402, InsufficientBalanceError, False),
        (408, GatewayTimeoutError, True),
        (504, GatewayTimeoutError, True),
        (409, ProviderError, True),
        (500, ProviderError, True),
        (502, ProviderError, True),
        (503, ProviderError, True),
        (501, ProviderError, False),
        (418, ProviderError, False),
    ],
)
def test_status_fallback_and_retryable(
    status: int, cls: type[GatewayError], retryable: bool
) -> None:
    err = error_from_response(status, {}, body({"error": {"message": "m"}}))
    assert type(err) is cls
    assert err.retryable is retryable


def test_unknown_gateway_code_on_401_is_gateway_auth() -> None:
    err = error_from_response(401, {}, body(newer(2999, "new thing", 401)))
    assert type(err) is GatewayAuthenticationError
    assert err.code == 2999


@pytest.mark.parametrize(
    "data",
    [
        {"error": "plain string error"},
        {"message": "plain string error"},
        {"detail": "plain string error"},
    ],
)
def test_other_provider_shapes(data: dict[str, Any]) -> None:
    assert error_from_response(400, {}, body(data)).message == "plain string error"


# --- secrets -------------------------------------------------------------------------------

SECRET_BODIES = [
    {"error": {"message": f"bad token {TOKEN}"}},
    {"error": {"message": f"header was Authorization: Bearer {TOKEN}"}},
    {"error": {"message": "header was Bearer xyz"}},
    {"error": {"message": "key sk-abcdef1234567890 is revoked"}},
    {"error": [{"code": 2009, "message": f"token {TOKEN} invalid"}]},
]


@pytest.mark.parametrize("data", SECRET_BODIES)
def test_secrets_never_in_str_repr_or_body(data: dict[str, Any]) -> None:
    err = error_from_response(401, {}, body(data), secrets=[TOKEN])
    for text in (str(err), repr(err), err.body or "", err.message):
        assert TOKEN not in text
        assert "xyz" not in text
        assert "sk-abcdef1234567890" not in text


def test_secret_straddling_the_excerpt_cut_is_redacted() -> None:
    secret = "Zq9" * 10  # no pattern matches this: only the literal secret list catches it
    text = "x" * 490 + secret
    err = error_from_response(500, {}, text.encode(), secrets=[secret])
    assert err.body is not None
    assert secret[:6] not in err.body
    assert len(err.body) <= 500


def test_redact() -> None:
    assert redact("a s3cret b", ["s3cret"]) == "a *** b"
    assert redact("short abc", ["abc"]) == "short abc"  # < 4 chars: not a secret
    assert redact("Bearer abc.DEF-123") == "Bearer ***"
    assert redact("AIza" + "x" * 30) == "***"
    assert redact(redact("Bearer abcdefgh")) == "Bearer ***"


# --- pickling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "data", "headers"),
    [
        (429, {"error": {"message": "slow"}}, {"retry-after": "3", "cf-aig-log-id": "L"}),
        (401, OLD_2009, {"cf-aig-log-id": "L2"}),
        (500, {"error": {"message": "boom", "type": "server_error", "code": "x"}}, {}),
        (424, newer(2016, "blocked", 424), {"cf-aig-step": "1"}),
    ],
)
def test_errors_pickle_and_deepcopy_round_trip(
    status: int, data: dict[str, Any], headers: dict[str, str]
) -> None:
    err = error_from_response(status, headers, body(data))
    for clone in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err)):
        assert type(clone) is type(err)
        assert clone.__dict__ == err.__dict__
        assert str(clone) == str(err)
        assert clone.args == err.args


def test_direct_construction_defaults() -> None:
    assert GatewayConnectionError("x").retryable is True
    assert StreamInterruptedError("x").retryable is False
    assert GatewayTimeoutError("x").retryable is True
    assert InvalidResponseError("x").retryable is False
    assert ProviderError("x", retryable=True).retryable is True
    err = GatewayError("plain")
    assert str(err) == "plain"
    assert err.info.status_code is None
    assert err.log_id is None


# --- documentation -------------------------------------------------------------------------


def _error_classes() -> list[type[GatewayError]]:
    import cf_ai_gateway.errors as errors

    found = [getattr(errors, name) for name in errors.__all__]
    return [c for c in found if isinstance(c, type) and issubclass(c, GatewayError)]


def test_every_error_class_has_its_own_docstring() -> None:
    classes = _error_classes()
    assert len(classes) == 21
    for cls in classes:
        doc = cls.__dict__.get("__doc__")
        assert doc, f"{cls.__name__} has no docstring of its own"
        assert len(doc.split()) >= 12, f"{cls.__name__}: say what it means and what to do"


def test_module_tree_names_every_error_class_under_its_parent() -> None:
    import cf_ai_gateway.errors as errors

    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []  # (indent, name) of the open branches
    for line in doc.splitlines():
        text = line.lstrip(" │├└─")
        if not line.startswith("    ") or not text.split() or "Error" not in text.split()[0]:
            continue
        name, indent = text.split()[0], len(line) - len(text)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((indent, name))
    classes = _error_classes()
    assert set(parents) == {c.__name__ for c in classes}
    for cls in classes:
        expected = None if cls is GatewayError else cls.__bases__[0].__name__
        assert parents[cls.__name__] == expected, cls.__name__
