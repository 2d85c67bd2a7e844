"""The core's errors as langchain-core's own error types, at one point of the adapter.

langchain-core 1.x defines provider-neutral model errors (``ModelRateLimitError``,
``ModelAuthenticationError``, ...; ``langchain_core.exceptions``), and provider packages raise
classes that are both their SDK's error and LangChain's, so ``except ModelRateLimitError``
works whatever the provider. We do the same for the core's hierarchy: a rate limit raised by
our chat model is both :class:`cf_ai_gateway.RateLimitError` and ``ModelRateLimitError``, with
the same name, message, attributes and cause. Where the installed langchain-core has none of
these classes (0.3.x and early 1.x), errors are raised unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from cf_ai_gateway import errors as core

__all__ = ["HAS_MODEL_ERRORS", "as_langchain_error", "langchain_errors"]

_lc_exceptions = importlib.import_module("langchain_core.exceptions")

_NATIVE_OF_CORE: tuple[tuple[type[core.GatewayError], str], ...] = (
    # the nearest ancestor listed here decides; order does not matter
    (core.GatewayAuthenticationError, "ModelAuthenticationError"),
    (core.ProviderAuthenticationError, "ModelAuthenticationError"),
    (core.RateLimitError, "ModelRateLimitError"),
    (core.GatewayTimeoutError, "ModelTimeoutError"),
    (core.GatewayConnectionError, "ModelConnectionError"),
    (core.ModelNotFoundError, "ModelNotFoundError"),
    (core.BadRequestError, "ModelInvalidRequestError"),
    (core.ProviderError, "ModelAPIError"),
    (core.GatewayError, "ModelError"),
)
_CONTEXT_OVERFLOW_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})

HAS_MODEL_ERRORS: bool = hasattr(_lc_exceptions, "ModelError")
"""Whether the installed langchain-core has its provider-neutral model errors (1.x)."""


def _core_classes() -> list[type[core.GatewayError]]:
    seen: list[type[core.GatewayError]] = []
    stack: list[type[core.GatewayError]] = [core.GatewayError]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return [c for c in seen if c.__module__ == core.__name__]


def _native_name(cls: type[core.GatewayError]) -> str:
    table = dict(_NATIVE_OF_CORE)
    return next(table[base] for base in cls.__mro__ if base in table)


def _make_dual(
    core_cls: type[core.GatewayError], native: type[Exception], name: str
) -> type[core.GatewayError]:
    dual = type(
        name,
        (core_cls, native),
        {
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"{core_cls.__doc__ or core_cls.__name__}\n\nAlso "
            f"``langchain_core.exceptions.{native.__name__}``.",
        },
    )
    globals()[name] = dual  # picklable by name
    return dual


_DUALS: dict[type[core.GatewayError], type[core.GatewayError]] = {}
_OVERFLOW: type[core.GatewayError] | None = None
if HAS_MODEL_ERRORS:
    for _cls in _core_classes():
        _DUALS[_cls] = _make_dual(_cls, getattr(_lc_exceptions, _native_name(_cls)), _cls.__name__)
    _overflow_native = getattr(_lc_exceptions, "ContextOverflowError", None)
    if _overflow_native is not None:
        _OVERFLOW = _make_dual(core.BadRequestError, _overflow_native, "ContextWindowExceededError")


def as_langchain_error(err: core.GatewayError) -> core.GatewayError:
    """``err`` as the class that is both its core class and langchain-core's matching model
    error (same message, attributes, cause and traceback); ``err`` itself when langchain-core
    has no such class or ``err`` already is one."""
    cls = type(err)
    dual = _DUALS.get(cls)
    if (
        _OVERFLOW is not None
        and cls is core.BadRequestError
        and err.provider_code in _CONTEXT_OVERFLOW_CODES
    ):
        dual = _OVERFLOW
    if dual is None:
        return err
    native = dual.__new__(dual)
    native.args = err.args
    native.__dict__.update(err.__dict__)
    native.is_retryable = err.retryable  # type: ignore[attr-defined]
    native.__cause__ = err.__cause__
    native.__context__ = err.__context__
    native.__suppress_context__ = err.__suppress_context__
    return native.with_traceback(err.__traceback__)


@contextmanager
def langchain_errors() -> Iterator[None]:
    """Re-raise core errors from the block as :func:`as_langchain_error` makes them."""
    try:
        yield
    except core.GatewayError as err:
        native = as_langchain_error(err)
        if native is err:
            raise
        raise native from err.__cause__
