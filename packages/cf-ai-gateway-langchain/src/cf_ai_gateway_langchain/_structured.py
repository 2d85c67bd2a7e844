"""``with_structured_output`` and ``bind_tools`` helpers: schemas to OpenAI tools and response
formats, and the output parsers that read them back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Literal

from cf_ai_gateway.chat import json_schema_response_format
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


def response_format_for(schema: Any, strict: bool | None) -> dict[str, Any]:
    """The ``response_format`` of ``method="json_schema"`` (OpenAI structured outputs) for a
    pydantic class, TypedDict, JSON schema or ready ``response_format``."""
    if (
        isinstance(schema, Mapping)
        and schema.get("type") == "json_schema"
        and "json_schema" in schema
    ):
        return dict(schema)
    if isinstance(schema, Mapping) and "name" in schema and "schema" in schema:
        json_schema = dict(schema)  # OpenAI's json_schema object, kept as given
        if strict is not None:
            json_schema["strict"] = strict
        return {"type": "json_schema", "json_schema": json_schema}
    if strict is None and isinstance(schema, Mapping) and isinstance(schema.get("strict"), bool):
        strict = schema["strict"]
    function = convert_to_openai_function(schema, strict=bool(strict))
    return json_schema_response_format(
        function["parameters"],
        name=function["name"],
        description=function.get("description"),
        strict=strict if strict is not None else function.get("strict"),
    )


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
