"""The two structure checks: answers against the project's declared expectation, and tool calls
against the tools the example declares (valid JSON arguments matching each tool's parameters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curation.errors import InputError
from curation.export.conversation import Unrepresentable, parse_tools
from curation.quality.base import KEEP, CheckResult, ExampleCheck, Flag, Location
from curation.quality.settings import CheckSettings
from curation.quality.structure.expectations import StructureExpectations
from curation.quality.structure.validators import (
    StructureError,
    schema_validator,
    validate_against_schema,
    validate_json,
)
from curation.quality.view import ExampleView, line_column

if TYPE_CHECKING:
    from curation.quality.base import QualityCheck
    from curation.quality.config import QualityConfig

__all__ = ["InvalidStructure", "InvalidToolCall", "ToolCallSettings"]

# Scores: what cannot be parsed at all is worst; a parsed value off its schema, or output in
# the wrong wrapping, is still partly right.
_SCORES = {"schema": 0.3, "shape": 0.2, "fence": 0.5}


class InvalidStructure(ExampleCheck):
    """Flags answers that break the structure the project declared for them.

    Runs only when the config declares expectations (`QualityConfig.expectations`); the
    first error of an example is reported with its position in the message.
    """

    code = "invalid_structure"
    title = "Broken structure"
    description = (
        "The answer does not parse as the declared structure (JSON, JSON Schema, YAML, SQL, "
        "a pattern): the model would learn broken output."
    )
    Settings = StructureExpectations
    settings: StructureExpectations
    default_enabled = False

    @classmethod
    def from_config(cls, config: QualityConfig) -> QualityCheck:
        return cls(config.expectations or StructureExpectations())

    def check(self, example: ExampleView) -> CheckResult:
        expectation = self.settings.for_metadata(example.metadata)
        if expectation is None:
            return KEEP
        turns = example.text_turns
        if expectation.turns == "last":
            turns = turns[-1:]
        for turn in turns:
            error = expectation.check(turn.text)
            if error is None:
                continue
            return self.flag(
                _SCORES.get(error.kind, 0.0),
                f"Expected {expectation.label}: {error.describe()}.",
                kind=error.kind,
                location=_location(turn.index, error),
                data={"expected": expectation.label, "error": error.to_dict()},
            )
        return KEEP


def _location(turn: int, error: StructureError, **extra: Any) -> Location:
    end = None if error.offset is None else error.offset + 1
    return Location(turn, error.offset, end, error.line, error.column, **extra)


@dataclass(frozen=True, slots=True)
class ToolCallSettings(CheckSettings):
    """How strictly tool calls are held to the declared tools.

    Attributes
    ----------
    allow_extra_arguments:
        False (default): an argument the tool's parameters do not list is an error even when
        the schema leaves ``additionalProperties`` open (as most OpenAI tool schemas do), since
        a model trained on it learns to invent parameters. True follows the schema alone.
    require_declared_tools:
        True (default): a call in an example that declares no tools is flagged (the model
        would learn to call tools it was never offered).
    """

    allow_extra_arguments: bool = False
    require_declared_tools: bool = True

    def __post_init__(self) -> None:
        for name in ("allow_extra_arguments", "require_declared_tools"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(
                    f"ToolCallSettings.{name} must be true or false, not {getattr(self, name)!r}"
                )


class InvalidToolCall(ExampleCheck):
    """Flags tool calls whose arguments are not JSON, not an object, or break the called
    tool's declared parameters; calls to tools the example does not declare; and tool
    declarations that cannot be read. Positions are in the call's ``arguments`` text."""

    code = "invalid_tool_call"
    title = "Invalid tool call"
    description = (
        "A tool call names an undeclared tool or passes arguments that are not JSON or do not "
        "match the tool's declared parameters."
    )
    Settings = ToolCallSettings
    settings: ToolCallSettings

    def check(self, example: ExampleView) -> CheckResult:
        calling = [t for t in example.turns if t.tool_calls]
        if not calling:
            return KEEP
        try:
            tools = {t["name"]: t for t in parse_tools(example.tools)}
        except Unrepresentable as exc:
            return self.flag(
                0.0,
                f"The example's tool declarations cannot be read: {exc.message}.",
                kind="tools_invalid",
            )
        for turn in calling:
            try:
                calls = json.loads(turn.tool_calls or "")
            except json.JSONDecodeError as exc:
                return self.flag(
                    0.0,
                    f"Message {turn.index + 1}: the tool calls are not JSON ({exc.msg}).",
                    kind="calls_not_json",
                    location=Location(
                        turn.index, exc.pos, exc.pos + 1, exc.lineno, exc.colno, "tool_calls"
                    ),
                )
            for k, call in enumerate(calls if isinstance(calls, list) else [calls]):
                flag = self._call(turn.index, k, call, tools)
                if flag is not None:
                    return flag
        return KEEP

    def _call(self, turn: int, k: int, call: Any, tools: dict[str, dict[str, Any]]) -> Flag | None:
        where = f"Message {turn + 1}, call {k + 1}"
        fn: Any = call
        if isinstance(call, dict) and isinstance(call.get("function"), dict):
            fn = call["function"]  # OpenAI style; a flat {"name", "arguments"} call otherwise
        if not isinstance(fn, dict):
            fn = {}
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            return self.flag(
                0.0,
                f"{where} names no function.",
                kind="no_name",
                location=Location(turn, field="tool_calls", call=k),
            )
        if not tools:
            if not self.settings.require_declared_tools:
                return None
            return self.flag(
                0.1,
                f"{where} calls {name!r} but the example declares no tools.",
                kind="no_tools_declared",
                location=Location(turn, field="tool_calls", call=k),
                data={"tool": name},
            )
        if name not in tools:
            return self.flag(
                0.0,
                f"{where} calls {name!r}, which is not among the declared tools "
                f"({', '.join(sorted(tools))}).",
                kind="unknown_tool",
                location=Location(turn, field="tool_calls", call=k),
                data={"tool": name, "declared": sorted(tools)[:20]},
            )
        args = fn.get("arguments", {})
        text = args if isinstance(args, str) else ""
        if isinstance(args, str):
            value, error = validate_json(args) if args.strip() else ({}, None)
            if error is not None:
                return self.flag(
                    0.0,
                    f"{where} ({name}): the arguments are not JSON: {error.describe()}.",
                    kind="arguments_not_json",
                    location=_location(turn, error, field="tool_calls", call=k),
                    data={"tool": name, "error": error.to_dict()},
                )
        else:
            value = args
        if not isinstance(value, dict):
            return self.flag(
                0.0,
                f"{where} ({name}): the arguments are {type(value).__name__}, not an object.",
                kind="arguments_not_object",
                location=Location(turn, field="tool_calls", call=k),
                data={"tool": name},
            )
        parameters = tools[name].get("parameters")
        if parameters is None:
            return None  # the tool declares no parameter schema
        try:
            validator = schema_validator(parameters)
        except InputError as exc:  # a declaration that is no JSON Schema
            return self.flag(
                0.2,
                f"{where}: the declared parameters of {name!r} are not a valid JSON Schema "
                f"({exc}).",
                kind="tool_schema_invalid",
                data={"tool": name},
            )
        error = validate_against_schema(value, validator, text)
        if error is None and not self.settings.allow_extra_arguments:
            error = _extra_argument(value, parameters, text)
        if error is not None:
            return self.flag(
                0.3,
                f"{where} ({name}): {error.describe()}.",
                kind="arguments_schema" if error.kind == "schema" else error.kind,
                location=_location(turn, error, field="tool_calls", call=k),
                data={"tool": name, "error": error.to_dict()},
            )
        return None


def _extra_argument(value: dict[str, Any], parameters: Any, text: str) -> StructureError | None:
    """The first top-level argument the parameters do not list (when they list properties)."""
    props = parameters.get("properties") if isinstance(parameters, dict) else None
    if not isinstance(props, dict):
        return None
    extra = [k for k in value if k not in props]
    if not extra:
        return None
    offset = text.find(json.dumps(extra[0])) if text else -1
    listed = ", ".join(props) or "none"
    message = f"Argument {extra[0]!r} is not a declared parameter (declared: {listed})"
    if offset < 0:
        return StructureError("unknown_argument", message, path=f"$.{extra[0]}")
    line, column = line_column(text, offset)
    return StructureError("unknown_argument", message, offset, line, column, f"$.{extra[0]}")
