"""Declared structure expectations: "answers must be JSON (matching this schema) / YAML / SQL in a
dialect / match a regular expression", for a whole project or per category (a metadata value).

Frozen and validated on creation, with `to_dict` / `from_dict` so a project can save them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Self

from curation.errors import InputError
from curation.quality.settings import CheckSettings
from curation.quality.structure.validators import (
    SQL_DIALECTS,
    StructureError,
    compile_pattern,
    schema_validator,
    validate_json,
    validate_regex,
    validate_sql,
    validate_yaml,
)
from curation.quality.view import Fence, code_fences, line_column

__all__ = [
    "FENCE_RULES",
    "STRUCTURE_KINDS",
    "TURN_RULES",
    "Expectation",
    "StructureExpectations",
]

STRUCTURE_KINDS: tuple[str, ...] = ("json", "yaml", "sql", "regex")
FENCE_RULES: tuple[str, ...] = ("optional", "required", "forbidden")
TURN_RULES: tuple[str, ...] = ("all", "last")

# Info strings of fences that hold each kind (besides a bare ``` fence).
_FENCE_LANGUAGES: dict[str, frozenset[str]] = {
    "json": frozenset({"json"}),
    "yaml": frozenset({"yaml", "yml"}),
    "sql": frozenset({"sql", "psql", "pgsql", "plsql", "postgresql", "tsql", *SQL_DIALECTS}),
    "regex": frozenset({"text", "txt", "plain", "plaintext"}),
}


@dataclass(frozen=True, slots=True)
class Expectation(CheckSettings):
    """What every answer (of a project, or of one category) must be.

    Attributes
    ----------
    kind:
        ``"json"``, ``"yaml"``, ``"sql"`` or ``"regex"``.
    schema:
        For JSON and YAML: a JSON Schema the parsed value must match (checked with
        `jsonschema`; its draft from ``$schema``, else the latest).
    dialect:
        For SQL: a sqlglot dialect (``postgres``, ``mysql``, ``sqlite``, ``bigquery``...);
        None parses with sqlglot's own, permissive dialect.
    pattern:
        For ``regex``: the answer (stripped) must match it as a whole.
    fence:
        ``"optional"`` (default): when the answer wraps its output in a code fence (```` ```json ````
        or a bare ```` ``` ````), the fence's content is validated, else the whole answer;
        ``"required"``: the output must be in such a fence; ``"forbidden"``: the answer must be
        the raw output, no fence (what an API's JSON mode returns).
    turns:
        ``"all"`` assistant turns with text, or only the ``"last"`` one.
    """

    kind: str
    schema: Mapping[str, Any] | None = None
    dialect: str | None = None
    pattern: str | None = None
    fence: str = "optional"
    turns: str = "all"

    def __post_init__(self) -> None:
        if self.kind not in STRUCTURE_KINDS:
            raise InputError(
                f"unknown structure {self.kind!r}; expected one of {', '.join(STRUCTURE_KINDS)}"
            )
        if self.fence not in FENCE_RULES:
            raise InputError(f"fence must be one of {', '.join(FENCE_RULES)}, not {self.fence!r}")
        if self.turns not in TURN_RULES:
            raise InputError(f"turns must be one of {', '.join(TURN_RULES)}, not {self.turns!r}")
        if self.schema is not None:
            if self.kind not in ("json", "yaml"):
                raise InputError(f"a JSON Schema applies to json or yaml answers, not {self.kind}")
            schema_validator(self.schema)  # raises InputError naming the problem
        if self.dialect is not None:
            if self.kind != "sql":
                raise InputError(f"a dialect applies to sql answers, not {self.kind}")
            if self.dialect.lower() not in SQL_DIALECTS:
                raise InputError(
                    f"unknown SQL dialect {self.dialect!r}; known: {', '.join(SQL_DIALECTS)}"
                )
        if self.kind == "regex":
            if not isinstance(self.pattern, str) or not self.pattern:
                raise InputError("a regex expectation needs a pattern, e.g. regex:^[A-D]$")
            compile_pattern(self.pattern)
        elif self.pattern is not None:
            raise InputError(f"a pattern applies to regex answers, not {self.kind}")

    @classmethod
    def parse(cls, spec: str, *, schema: Mapping[str, Any] | None = None) -> Expectation:
        """Read the command line's form: ``json``, ``yaml``, ``sql``, ``sql:DIALECT``,
        ``regex:PATTERN`` (the pattern is everything after the first colon).

        Raises
        ------
        InputError
            On an unknown kind, dialect or a pattern that does not compile.
        """
        kind, _, rest = spec.partition(":")
        kind = kind.strip().lower()
        if kind == "regex":
            return cls("regex", pattern=rest)
        if kind == "sql":
            return cls("sql", dialect=rest.strip() or None)
        if rest:
            raise InputError(f"{kind!r} takes no ':' option (got {spec!r}); use {kind}")
        return cls(kind, schema=schema)

    @property
    def label(self) -> str:
        """Short name for messages: ``json``, ``json (schema)``, ``sql:postgres``, ``regex``."""
        if self.kind == "sql" and self.dialect:
            return f"sql:{self.dialect}"
        return f"{self.kind} (schema)" if self.schema is not None else self.kind

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("schema", "dialect", "pattern"):
            value = getattr(self, name)
            if value is not None:
                out[name] = dict(value) if isinstance(value, Mapping) else value
        out["fence"] = self.fence
        out["turns"] = self.turns
        return out

    def check(self, text: str) -> StructureError | None:
        """The first structure error of one answer's `text` (offsets in `text`), or None."""
        fences = [f for f in code_fences(text) if self._holds(f)]
        if fences:
            if self.fence == "forbidden":
                return _error(
                    "fence",
                    f"The answer wraps its {self.kind.upper()} in a code fence; this project "
                    "wants the raw output",
                    text,
                    fences[0].start,
                )
            for f in fences:
                error = self._check_body(f.body(text))
                if error is not None:
                    return error.shifted(text, f.body_start)
            return None
        if self.fence == "required":
            return _error(
                "fence",
                f"The answer must put its {self.kind.upper()} in a ```{self.kind} code fence",
                text,
                0,
            )
        start = len(text) - len(text.lstrip())
        error = self._check_body(text.strip())
        return None if error is None else error.shifted(text, start)

    def _holds(self, fence: Fence) -> bool:
        return fence.info == "" or fence.info in _FENCE_LANGUAGES[self.kind]

    def _check_body(self, body: str) -> StructureError | None:
        if self.kind == "json":
            validator = None if self.schema is None else schema_validator(self.schema)
            return validate_json(body, validator=validator)[1]
        if self.kind == "yaml":
            validator = None if self.schema is None else schema_validator(self.schema)
            return validate_yaml(body, validator=validator)[1]
        if self.kind == "sql":
            return validate_sql(body, dialect=self.dialect)
        assert self.pattern is not None  # checked in __post_init__
        return validate_regex(body, self.pattern)


def _error(kind: str, message: str, text: str, offset: int) -> StructureError:
    line, column = line_column(text, offset)
    return StructureError(kind, message, offset, line, column)


def _value_key(value: Any) -> str:
    """How a metadata value names a category: strings as they are, others as JSON text."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class StructureExpectations(CheckSettings):
    """A project's expectations: one for every example, and / or one per category.

    Attributes
    ----------
    default:
        The expectation of examples that no category rule picks (None: no check for them).
    field:
        The metadata field that names an example's category (e.g. ``"task"``).
    by_value:
        Category value -> expectation (``{"sql": Expectation("sql", dialect="sqlite")}``).
        Values other than strings are matched by their JSON text (``true``, ``3``).
    """

    default: Expectation | None = None
    field: str | None = None
    by_value: Mapping[str, Expectation] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default is not None and not isinstance(self.default, Expectation):
            raise InputError(f"default must be an Expectation, not {type(self.default).__name__}")
        if self.by_value and not self.field:
            raise InputError("expectations per category need the metadata field that names it")
        if self.field and not self.by_value:
            raise InputError(
                f"field {self.field!r} is given but no category has an expectation (by_value)"
            )
        for key, value in self.by_value.items():
            if not isinstance(key, str) or not isinstance(value, Expectation):
                raise InputError(
                    f"by_value maps category values (text) to Expectations, not {key!r}: "
                    f"{type(value).__name__}"
                )

    @property
    def declared(self) -> bool:
        """True when any expectation is declared (else the structure check has nothing to do)."""
        return self.default is not None or bool(self.by_value)

    def for_metadata(self, metadata: Mapping[str, Any]) -> Expectation | None:
        """The expectation for an example with `metadata`: its category's, else the default."""
        if self.field and self.field in metadata:
            found = self.by_value.get(_value_key(metadata[self.field]))
            if found is not None:
                return found
        return self.default

    def to_dict(self) -> dict[str, Any]:
        return {
            "default": None if self.default is None else self.default.to_dict(),
            "field": self.field,
            "by_value": {k: v.to_dict() for k, v in self.by_value.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Self:
        data = dict(data or {})
        allowed = ("default", "field", "by_value")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise InputError(
                f"unknown StructureExpectations key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(allowed)}"
            )
        default = data.get("default")
        by_value = data.get("by_value") or {}
        if not isinstance(by_value, Mapping):
            raise InputError(f"by_value must be an object, not {type(by_value).__name__}")
        return cls(
            default=None if default is None else Expectation.from_dict(default),
            field=data.get("field"),
            by_value={str(k): Expectation.from_dict(v) for k, v in by_value.items()},
        )
