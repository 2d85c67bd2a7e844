"""``with_structured_output`` and ``bind_tools`` helpers: schemas to OpenAI tools and response
formats, and the output parsers that read them back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_function, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

__all__ = [
    "StructuredMethod",
    "format_tool_choice",
    "format_tools",
    "response_format_for",
    "structured_output_parser",
    "tool_name_of",
    "with_raw",
]

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]


def _is_pydantic_class(obj: Any) -> bool:
    return isinstance(obj, type) and is_basemodel_subclass(obj)


def format_tools(
    tools: Sequence[Mapping[str, Any] | type | Callable[..., Any] | BaseTool],
    *,
    strict: bool | None = None,
) -> list[dict[str, Any]]:
    """Tools of any LangChain shape as OpenAI function tools."""
    return [convert_to_openai_tool(t, strict=strict) for t in tools]


def format_tool_choice(
    tool_choice: dict[str, Any] | str | bool | None, tools: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | str | None:
    """LangChain's ``tool_choice`` vocabulary in OpenAI form.

    ``"any"`` and ``True`` (with several tools) force some tool (``"required"``); a tool name
    (or ``True`` with one tool) forces that tool; ``"auto"``, ``"none"``, ``"required"`` and
    OpenAI dicts pass through.
    """
    names = [t["function"]["name"] for t in tools if t.get("type") == "function"]
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True:
        return (
            {"type": "function", "function": {"name": names[0]}} if len(names) == 1 else "required"
        )
    if isinstance(tool_choice, str):
        if tool_choice == "any":
            return "required"
        if tool_choice in ("auto", "none", "required"):
            return tool_choice
        if names and tool_choice not in names:
            raise ValueError(f"tool_choice={tool_choice!r} is not one of the bound tools {names}")
        return {"type": "function", "function": {"name": tool_choice}}
    if isinstance(tool_choice, dict):
        return tool_choice
    raise ValueError(f"unrecognised tool_choice {tool_choice!r}")


def response_format_for(schema: Any, strict: bool | None) -> dict[str, Any]:
    """The ``response_format`` of ``method="json_schema"`` (OpenAI structured outputs)."""
    if (
        isinstance(schema, Mapping)
        and schema.get("type") == "json_schema"
        and "json_schema" in schema
    ):
        return dict(schema)
    if isinstance(schema, Mapping) and "name" in schema and "schema" in schema:
        json_schema = dict(schema)
    else:
        if (
            strict is None
            and isinstance(schema, Mapping)
            and isinstance(schema.get("strict"), bool)
        ):
            strict = schema["strict"]
        function = convert_to_openai_function(schema, strict=bool(strict))
        function["schema"] = function.pop("parameters")
        json_schema = function
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


def tool_name_of(schema: Any) -> str:
    return str(convert_to_openai_tool(schema)["function"]["name"])


def structured_output_parser(schema: Any, method: StructuredMethod) -> Runnable[Any, Any]:
    """Parser from the model's message to the schema's type (pydantic object or dict)."""
    if method == "function_calling":
        if _is_pydantic_class(schema):
            return PydanticToolsParser(tools=[schema], first_tool_only=True)
        return JsonOutputKeyToolsParser(key_name=tool_name_of(schema), first_tool_only=True)
    if _is_pydantic_class(schema):
        return PydanticOutputParser(pydantic_object=schema)
    return JsonOutputParser()


def with_raw(llm: Runnable[Any, Any], parser: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """``include_raw=True``: ``{"raw": message, "parsed": ..., "parsing_error": ...}``."""
    parser_assign = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
    parser_with_fallback = parser_assign.with_fallbacks(
        [parser_none], exception_key="parsing_error"
    )
    return RunnableMap(raw=llm) | parser_with_fallback
