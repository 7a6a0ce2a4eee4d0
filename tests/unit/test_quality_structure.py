"""Known-answer tests for the structure validators (JSON, JSON Schema, YAML, SQL, regex) with their
error positions, the declared expectations, and tool calls against declared tool parameters.
"""

from __future__ import annotations

import json

import pytest

from curation.errors import InputError
from curation.quality import Expectation, QualityConfig, StructureExpectations, run_quality
from curation.quality.structure import (
    validate_json,
    validate_regex,
    validate_sql,
    validate_yaml,
)
from curation.quality.structure.checks import ToolCallSettings
from curation.quality.structure.validators import schema_validator
from curation.records import Example
from tests.unit.quality_helpers import check, ex

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


# ------------------------------------------------------------------ JSON


def test_valid_json() -> None:
    value, error = validate_json('{"a": [1, 2, {"b": null}]}')
    assert error is None and value == {"a": [1, 2, {"b": None}]}


@pytest.mark.parametrize(
    ("text", "offset", "line", "column"),
    [
        ('{"a": 1,}', 7, 1, 8),  # the trailing comma
        ('{"a": NaN}', 6, 1, 7),
        ('{\n  "a": 1,\n  "b": tru\n}', 19, 3, 8),
        ("[1, 2", 5, 1, 6),
        ("Sure! Here it is", 0, 1, 1),
    ],
)
def test_json_errors_carry_their_position(text: str, offset: int, line: int, column: int) -> None:
    _, error = validate_json(text)
    assert error is not None and error.kind == "json"
    assert (error.offset, error.line, error.column) == (offset, line, column)


def test_schema_errors_point_at_the_offending_value() -> None:
    validator = schema_validator(PERSON)
    text = '{"name": "Ann", "age": -3}'
    value, error = validate_json(text, validator=validator)
    assert value == {"name": "Ann", "age": -3}
    assert error is not None and error.kind == "schema" and error.path == "$.age"
    assert error.offset == text.index("-3")
    assert "minimum" in error.message or "less than" in error.message


def test_schema_error_inside_a_nested_array() -> None:
    schema = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
    }
    text = '{"x": {"tags": [9]}, "tags": ["ok", 3]}'
    _, error = validate_json(text, validator=schema_validator(schema))
    assert error is not None and error.path == "$.tags[1]"
    assert text[error.offset :].startswith("3]")  # type: ignore[misc]


def test_missing_required_property_points_at_the_object() -> None:
    _, error = validate_json('{"name": "Ann"}', validator=schema_validator(PERSON))
    assert (
        error is not None and error.path == "$" and "'age' is a required property" in error.message
    )
    assert error.offset == 0


def test_an_invalid_schema_is_refused_with_its_place() -> None:
    with pytest.raises(InputError, match=r"not valid at \$\.properties\.age"):
        schema_validator({"type": "object", "properties": {"age": {"type": "integr"}}})


# ------------------------------------------------------------------ YAML


def test_valid_yaml_documents() -> None:
    value, error = validate_yaml("a: 1\nb: [x, y]\n")
    assert error is None and value == {"a": 1, "b": ["x", "y"]}
    value, error = validate_yaml("a: 1\n---\nb: 2\n")
    assert error is None and value == [{"a": 1}, {"b": 2}]


def test_yaml_error_position() -> None:
    _, error = validate_yaml("name: Ann\n  age: 3\n")
    assert error is not None and error.kind == "yaml"
    assert (error.line, error.column) == (2, 6)


def test_a_sentence_is_not_a_yaml_answer() -> None:
    _, error = validate_yaml("Sure, here is the config you asked for")
    assert error is not None and error.kind == "shape"


def test_yaml_against_a_schema_points_at_the_node() -> None:
    text = "name: Ann\nage: old\n"
    _, error = validate_yaml(text, validator=schema_validator(PERSON))
    assert error is not None and error.kind == "schema" and error.path == "$.age"
    assert error.offset == text.index("old")


# ------------------------------------------------------------------ SQL


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("SELECT name FROM users WHERE id = 1", None),
        ("WITH a AS (SELECT 1 AS x) SELECT x FROM a;", "postgres"),
        ("SELECT `a` FROM t", "mysql"),
        ("SELECT TOP 5 a FROM t", "tsql"),
        ("INSERT INTO t (a) VALUES (1); DELETE FROM t WHERE a = 2;", "sqlite"),
        ("SHOW TABLES", "mysql"),
    ],
)
def test_valid_sql(sql: str, dialect: str | None) -> None:
    assert validate_sql(sql, dialect=dialect) is None


def test_incomplete_where_is_located() -> None:
    error = validate_sql("SELECT * FROM t WHERE")
    assert error is not None and error.kind == "sql"
    assert error.offset == len("SELECT * FROM t ")
    assert "WHERE" in error.message


def test_dialects_differ() -> None:
    assert validate_sql("SELECT `a` FROM t", dialect="mysql") is None
    error = validate_sql("SELECT `a` FROM t", dialect="postgres")
    assert error is not None and error.line == 1


def test_prose_is_not_sql() -> None:
    error = validate_sql("hello world")
    assert error is not None and error.offset == 0 and "'hello'" in error.message


def test_unterminated_string_points_at_its_quote() -> None:
    error = validate_sql("SELECT 1;\nSELECT 'abc")
    assert error is not None and (error.line, error.column) == (2, 8)


def test_unknown_dialect_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown SQL dialect 'postgress'.*postgres"):
        validate_sql("SELECT 1", dialect="postgress")


# ------------------------------------------------------------------ regex


def test_regex_full_match_and_mismatch_position() -> None:
    assert validate_regex("555-1234", r"\d{3}-\d{4}") is None
    error = validate_regex("555-12a4", r"\d{3}-\d{4}")
    assert error is not None and error.offset == 6 and "'a'" in error.message
    short = validate_regex("555-12", r"\d{3}-\d{4}")
    assert short is not None and short.offset == 6 and "ends before" in short.message


def test_bad_pattern_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"not valid at position"):
        Expectation("regex", pattern="(unclosed")


# ------------------------------------------------------------------ expectations


def test_parse_command_line_specs() -> None:
    assert Expectation.parse("json") == Expectation("json")
    assert Expectation.parse("sql:postgres") == Expectation("sql", dialect="postgres")
    assert Expectation.parse("regex:^(yes|no)$") == Expectation("regex", pattern="^(yes|no)$")
    assert Expectation.parse("json", schema=PERSON).schema == PERSON
    with pytest.raises(InputError, match="unknown structure 'xml'"):
        Expectation.parse("xml")
    with pytest.raises(InputError, match="takes no ':' option"):
        Expectation.parse("json:strict")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "sql", "schema": PERSON}, "JSON Schema applies to json or yaml"),
        ({"kind": "json", "dialect": "mysql"}, "dialect applies to sql"),
        ({"kind": "regex"}, "needs a pattern"),
        ({"kind": "json", "fence": "always"}, "fence must be one of optional, required, forbidden"),
        ({"kind": "json", "turns": "first"}, "turns must be one of all, last"),
    ],
)
def test_bad_expectations_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Expectation(**kwargs)


def test_expectations_round_trip_through_json() -> None:
    exp = StructureExpectations(
        default=Expectation("json", schema=PERSON, fence="required"),
        field="task",
        by_value={
            "sql": Expectation("sql", dialect="sqlite"),
            "yn": Expectation("regex", pattern="^(yes|no)$"),
        },
    )
    again = StructureExpectations.from_dict(json.loads(json.dumps(exp.to_dict())))
    assert again == exp


def test_unknown_expectation_keys_are_named() -> None:
    with pytest.raises(InputError, match="'schemas'.*allowed: kind, schema"):
        Expectation.from_dict({"kind": "json", "schemas": {}})
    with pytest.raises(InputError, match="'default_'.*allowed: default, field, by_value"):
        StructureExpectations.from_dict({"default_": None})


def test_categories_need_their_field() -> None:
    with pytest.raises(InputError, match="need the metadata field"):
        StructureExpectations(by_value={"sql": Expectation("sql")})
    with pytest.raises(InputError, match="no category has an expectation"):
        StructureExpectations(field="task")


def test_category_picks_the_expectation_and_default_covers_the_rest() -> None:
    exp = StructureExpectations(
        default=Expectation("json"),
        field="task",
        by_value={"sql": Expectation("sql"), "true": Expectation("regex", pattern="yes")},
    )
    assert exp.for_metadata({"task": "sql"}) == Expectation("sql")
    assert exp.for_metadata({"task": "chat"}) == Expectation("json")
    assert exp.for_metadata({}) == Expectation("json")
    assert exp.for_metadata({"task": True}) == Expectation("regex", pattern="yes")


# ------------------------------------------------------------------ fences


def test_fenced_output_is_validated_inside_the_fence_and_located_in_the_message() -> None:
    answer = 'Here is the JSON:\n\n```json\n{\n  "name": "Ann",\n  "age": 3,\n}\n```\nDone.'
    error = Expectation("json").check(answer)
    assert error is not None and error.kind == "json"
    assert answer[error.offset] == ","  # type: ignore[index]  # the trailing comma
    assert (error.line, error.column) == (6, 11)


def test_fenced_valid_output_with_prose_around_passes() -> None:
    answer = 'Sure!\n```json\n{"name": "Ann", "age": 3}\n```\nAnything else?'
    assert Expectation("json", schema=PERSON).check(answer) is None


def test_fence_rules() -> None:
    raw = '{"name": "Ann", "age": 3}'
    fenced = f"```\n{raw}\n```"
    assert Expectation("json", fence="required").check(fenced) is None
    required = Expectation("json", fence="required").check(raw)
    assert required is not None and required.kind == "fence"
    forbidden = Expectation("json", fence="forbidden").check(fenced)
    assert forbidden is not None and forbidden.kind == "fence" and forbidden.offset == 0
    assert Expectation("json", fence="forbidden").check(raw) is None


def test_a_fence_of_another_language_is_not_the_output() -> None:
    answer = "```python\nprint({'a': 1})\n```"
    error = Expectation("json").check(answer)
    assert error is not None and error.offset == 0


def test_leading_whitespace_shifts_the_position() -> None:
    error = Expectation("json").check('\n\n  {"a": }')
    assert error is not None and (error.line, error.column) == (3, 9)


# ------------------------------------------------------------------ the structure check


def test_structure_check_runs_only_with_expectations() -> None:
    examples = [ex("Give JSON.", "not json", ident="bad"), ex("Give JSON.", '{"a": 1}', ident="ok")]
    assert run_quality(examples).rows_for("invalid_structure") == []
    config = QualityConfig(expectations=StructureExpectations(default=Expectation("json")))
    rows = run_quality(examples, config).rows_for("invalid_structure")
    assert [r.example_id for r in rows] == ["bad"]
    row = rows[0]
    assert row.data["kind"] == "json" and row.data["location"]["turn"] == 1
    assert row.data["error"]["offset"] == 0 and row.data["expected"] == "json"


def test_structure_check_per_category_and_last_turn_only() -> None:
    exp = StructureExpectations(
        field="task", by_value={"sql": Expectation("sql", dialect="sqlite", turns="last")}
    )
    from tests.unit.quality_helpers import chat

    convo = chat(
        ("user", "I need a query."),
        ("assistant", "Which table?"),
        ("user", "users"),
        ("assistant", "SELECT * FROM users"),
    )
    convo.metadata["task"] = "sql"
    chatty = ex("Hi", "Hello there!", metadata={"task": "chat"})
    bad = ex("Query?", "SELECT * FROM users WHERE", metadata={"task": "sql"}, ident="bad-sql")
    config = QualityConfig(expectations=exp)
    rows = run_quality([convo, chatty, bad], config).rows_for("invalid_structure")
    assert [r.example_id for r in rows] == ["bad-sql"]
    assert rows[0].data["error"]["offset"] == len("SELECT * FROM users ")


def test_schema_violation_score_is_above_a_parse_error() -> None:
    exp = StructureExpectations(default=Expectation("json", schema=PERSON))
    config = QualityConfig(expectations=exp)
    rows = run_quality(
        [ex("q", '{"name": 1, "age": 2}', ident="schema"), ex("q", "{", ident="parse")], config
    ).rows
    scores = {r.example_id: r.score for r in rows if r.code == "invalid_structure"}
    assert scores["parse"] == 0.0 and 0.0 < scores["schema"] < 1.0


# ------------------------------------------------------------------ tool calls

WEATHER_TOOLS = json.dumps(
    [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "unit": {"type": "string", "enum": ["c", "f"]},
                    },
                    "required": ["city"],
                },
            },
        }
    ]
)


def _calls(name: str, arguments: object) -> str:
    return json.dumps([{"type": "function", "function": {"name": name, "arguments": arguments}}])


def _tool_example(name: str, arguments: object, tools: str | None = WEATHER_TOOLS) -> Example:
    return ex("Weather in Paris?", "", tools=tools, tool_calls=_calls(name, arguments))


def test_a_valid_call_passes() -> None:
    example = _tool_example("get_weather", '{"city": "Paris", "unit": "c"}')
    assert check("invalid_tool_call", example) is None


@pytest.mark.parametrize(
    ("name", "arguments", "kind"),
    [
        ("get_weather", '{"city": "Paris",}', "arguments_not_json"),
        ("get_weather", '["Paris"]', "arguments_not_object"),
        ("get_forecast", '{"city": "Paris"}', "unknown_tool"),
        ("get_weather", '{"unit": "c"}', "arguments_schema"),
        ("get_weather", '{"city": "Paris", "unit": "kelvin"}', "arguments_schema"),
        ("get_weather", '{"city": "Paris", "country": "FR"}', "unknown_argument"),
    ],
)
def test_bad_calls(name: str, arguments: str, kind: str) -> None:
    flag = check("invalid_tool_call", _tool_example(name, arguments))
    assert flag is not None and flag.kind == kind, flag
    assert flag.location is not None and flag.location.field == "tool_calls"
    assert flag.location.call == 0 and flag.location.turn == 1


def test_argument_errors_are_located_in_the_arguments_text() -> None:
    arguments = '{"city": "Paris", "unit": "kelvin"}'
    flag = check("invalid_tool_call", _tool_example("get_weather", arguments))
    assert flag is not None and flag.location is not None
    assert arguments[flag.location.start :].startswith('"kelvin"')  # type: ignore[misc]
    broken = '{"city": "Paris",}'
    flag = check("invalid_tool_call", _tool_example("get_weather", broken))
    assert flag is not None and flag.location is not None and flag.location.start == 16


def test_arguments_may_be_an_object_not_only_text() -> None:
    example = _tool_example("get_weather", {"city": "Paris"})
    assert check("invalid_tool_call", example) is None


def test_extra_arguments_can_be_allowed() -> None:
    example = _tool_example("get_weather", '{"city": "Paris", "country": "FR"}')
    assert check("invalid_tool_call", example, ToolCallSettings(allow_extra_arguments=True)) is None


def test_calls_without_declared_tools() -> None:
    example = _tool_example("get_weather", '{"city": "Paris"}', tools=None)
    flag = check("invalid_tool_call", example)
    assert flag is not None and flag.kind == "no_tools_declared"
    relaxed = ToolCallSettings(require_declared_tools=False)
    assert check("invalid_tool_call", example, relaxed) is None


def test_unreadable_tool_declarations() -> None:
    example = _tool_example(
        "get_weather", '{"city": "Paris"}', tools='[{"description": "no name"}]'
    )
    flag = check("invalid_tool_call", example)
    assert flag is not None and flag.kind == "tools_invalid"


def test_flat_glaive_style_tools_are_read() -> None:
    tools = json.dumps(
        [{"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}]
    )
    good = ex("1 + ?", "", tools=tools, tool_calls=_calls("add", '{"a": 1}'))
    bad = ex("1 + ?", "", tools=tools, tool_calls=_calls("add", '{"a": "one"}'))
    assert check("invalid_tool_call", good) is None
    flag = check("invalid_tool_call", bad)
    assert (
        flag is not None
        and flag.kind == "arguments_schema"
        and "'one' is not of type" in flag.reason
    )


def test_a_tool_whose_parameters_are_no_schema() -> None:
    tools = json.dumps([{"name": "add", "parameters": {"type": "objekt"}}])
    flag = check("invalid_tool_call", ex("1 + ?", "", tools=tools, tool_calls=_calls("add", "{}")))
    assert flag is not None and flag.kind == "tool_schema_invalid"
    assert "'add'" in flag.reason and "not a valid JSON Schema" in flag.reason


def test_bad_tool_call_settings_are_named() -> None:
    with pytest.raises(InputError, match="allow_extra_arguments must be true or false, not 'yes'"):
        ToolCallSettings(allow_extra_arguments="yes")  # type: ignore[arg-type]
