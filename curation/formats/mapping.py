"""Column mappings: how any table's columns become user / assistant / system turns.

`suggest_mapping` guesses one; a template builds the user turn, drop rules say which rows to skip.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.errors import MappingError
from curation.formats.columns import (
    ASSISTANT_WORDS,
    ID_COLUMNS,
    MESSAGES_WORDS,
    USER_WORDS,
    column_rank,
    column_role,
    column_words,
)
from curation.formats.shapes import (
    Converted,
    Converter,
    RecordError,
    finish_turns,
    join_text,
    metadata_from,
    parse_chat,
    type_name,
)
from curation.records import Message


@dataclass(frozen=True, slots=True)
class TemplateField:
    """One ``{column}`` placeholder of a user-turn template."""

    column: str


TemplatePart = str | TemplateField


def parse_template(template: str) -> list[TemplatePart]:
    """Split a user-turn template into literal text and ``{column}`` placeholders.

    ``{{`` and ``}}`` stand for literal braces; a column name is anything between braces
    (spaces and ``#`` included, as in MRPC's ``{#1 String}``), leading and trailing blanks
    removed.

    Raises
    ------
    MappingError
        For an unclosed ``{``, a lone ``}``, an empty ``{}``, or a template naming no column.
    """
    parts: list[TemplatePart] = []
    text: list[str] = []
    i, n = 0, len(template)
    while i < n:
        ch = template[i]
        if ch in "{}" and template[i : i + 2] in ("{{", "}}"):
            text.append(ch)
            i += 2
        elif ch == "{":
            end = template.find("}", i + 1)
            inner = template[i + 1 : end] if end != -1 else ""
            if end == -1 or "{" in inner:
                raise MappingError(
                    f"The template has an unclosed '{{' at character {i + 1}: "
                    f"{template[i : i + 30]!r}. Write {{column}}, or {{{{ for a literal brace."
                )
            column = inner.strip()
            if not column:
                raise MappingError(
                    f"The template has an empty {{}} at character {i + 1}; put a column name "
                    "between the braces."
                )
            if text:
                parts.append("".join(text))
                text = []
            parts.append(TemplateField(column))
            i = end + 1
        elif ch == "}":
            raise MappingError(
                f"The template has a '}}' without its '{{' at character {i + 1}; write }}}} for "
                "a literal brace."
            )
        else:
            text.append(ch)
            i += 1
    if text:
        parts.append("".join(text))
    if not any(isinstance(p, TemplateField) for p in parts):
        raise MappingError(
            f"The template {template[:60]!r} names no column; write each column as {{column}}, "
            'e.g. "Premise: {sentence1}\\nHypothesis: {sentence2}".'
        )
    return parts


def template_columns(template: str) -> list[str]:
    """The columns a template names, in order of first use."""
    fields = [p.column for p in parse_template(template) if isinstance(p, TemplateField)]
    return list(dict.fromkeys(fields))


def render_template(parts: Sequence[TemplatePart], record: dict[str, Any]) -> str:
    """Fill a parsed template with one record's cells.

    Raises
    ------
    RecordError
        ``empty turn`` when every column the template names is empty in this record.
    """
    out: list[str] = []
    filled = False
    for part in parts:
        if isinstance(part, TemplateField):
            value = cell_text(record, part.column)
            filled = filled or bool(value.strip())
            out.append(value)
        else:
            out.append(part)
    if not filled:
        columns = ", ".join(dict.fromkeys(p.column for p in parts if isinstance(p, TemplateField)))
        raise RecordError("empty turn", f"every column of the template is empty ({columns})")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class DropRule:
    """Rows to leave out of an import: those whose ``column`` holds one of ``values``.

    Cells are compared as text with surrounding blanks removed (CSV cells, numbers written out);
    the value ``""`` matches an empty or missing cell.

    Attributes
    ----------
    column:
        The column to look at.
    values:
        The values that drop a row.
    """

    column: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column.strip():
            raise MappingError("A drop rule needs a column name, e.g. gold_label=-")
        if isinstance(self.values, str):
            raise MappingError(
                f"A drop rule's values must be a list, not the string {self.values!r}"
            )
        values = tuple(dict.fromkeys(str(v).strip() for v in self.values))
        if not values:
            raise MappingError(f"The drop rule on {self.column!r} lists no value.")
        object.__setattr__(self, "column", self.column.strip())
        object.__setattr__(self, "values", values)

    @classmethod
    def parse(cls, text: str) -> DropRule:
        """Read a rule written ``COLUMN=VALUE``, ``COLUMN in [A, B]`` or ``COLUMN is empty``.

        ``COLUMN==VALUE`` also works; ``COLUMN=`` means an empty cell. In a list, values may be
        JSON strings (``["-", "N/A"]``) or bare words separated by commas.

        Raises
        ------
        MappingError
            When the text is none of these forms, naming it.
        """
        raw = text.strip()
        listed = re.fullmatch(r"(.+?)\s+in\s+\[(.*)\]", raw, flags=re.DOTALL)
        if listed:
            column, inner = listed.group(1), listed.group(2)
            try:
                loaded = json.loads(f"[{inner}]")
                values = [str(v) for v in loaded]
            except json.JSONDecodeError:
                values = [v for v in (x.strip() for x in inner.split(",")) if v]
            return cls(column, tuple(values))
        empty = re.fullmatch(r"(.+?)\s+is\s+empty", raw, flags=re.IGNORECASE)
        if empty:
            return cls(empty.group(1), ("",))
        if "=" in raw:
            column, _, value = raw.partition("==") if "==" in raw else raw.partition("=")
            return cls(column, (value,))
        raise MappingError(
            f"Cannot read the drop rule {text!r}; write COLUMN=VALUE (e.g. gold_label=-), "
            "COLUMN in [A, B], or COLUMN is empty."
        )

    def matches(self, record: dict[str, Any]) -> bool:
        """True when this record's cell is one of the rule's values."""
        text = rule_text(record.get(self.column))
        return text is not None and text in self.values

    def describe(self) -> str:
        """The rule in words: ``gold_label = '-'``, ``label in ['-', 'N/A']``, ``x is empty``."""
        if self.values == ("",):
            return f"{self.column} is empty"
        if len(self.values) == 1:
            return f"{self.column} = {self.values[0]!r}"
        return f"{self.column} in [{', '.join(repr(v) for v in self.values)}]"


def rule_text(value: Any) -> str | None:
    """A cell as drop rules compare it: text without surrounding blanks, ``""`` for empty.

    Numbers and booleans are written out; lists and objects give None (no rule matches them).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def column_values(records: Iterable[Any], column: str, *, top: int = 30) -> list[tuple[str, int]]:
    """The most common values of a column as drop rules see them, with their counts.

    Parameters
    ----------
    records:
        Raw records (non-dict items are ignored).
    column:
        The column.
    top:
        How many values to return, most common first (ties in first-seen order).
    """
    counts: Counter[str] = Counter()
    for record in records:
        if isinstance(record, dict):
            text = rule_text(record.get(column))
            if text is not None:
                counts[text] += 1
    return counts.most_common(top)


class RecordDropped(RecordError):
    """A record left out by a `DropRule`: counted under the rule, not reported as a problem."""

    def __init__(self, rule: DropRule) -> None:
        super().__init__(f"dropped: {rule.describe()}", f"dropped by the rule {rule.describe()}")
        self.rule = rule


@dataclass
class ColumnMapping:
    """Which columns of a table hold the conversation.

    Attributes
    ----------
    user:
        Columns joined with a blank line (in this order) into the user turn.
    assistant:
        Column holding the assistant turn.
    system:
        Column holding a system prompt, if any.
    id:
        Column holding the record's own id, if any.
    metadata:
        Columns kept as metadata; None keeps every column not used as text.
    messages:
        Column holding a whole chat list (role/content or from/value); used instead of
        ``user`` / ``assistant`` when set.
    user_template:
        Builds the user turn instead of ``user``: text with ``{column}`` placeholders, e.g.
        ``"Premise: {sentence1}\nHypothesis: {sentence2}"`` (see `parse_template`).
    drop_where:
        Rows to leave out (`DropRule`s, e.g. SNLI's ``gold_label = '-'``: no gold label);
        each dropped row is counted under its rule.
    """

    user: list[str] = field(default_factory=list)
    assistant: str = ""
    system: str | None = None
    id: str | None = None
    metadata: list[str] | None = None
    messages: str | None = None
    user_template: str | None = None
    drop_where: tuple[DropRule, ...] = ()

    def user_columns(self) -> list[str]:
        """The columns the user turn is made of (the template's, or ``user``)."""
        if self.user_template:
            return template_columns(self.user_template)
        return list(self.user)

    def text_columns(self) -> set[str]:
        """Columns whose values become conversation text."""
        used = set(self.user_columns())
        for name in (self.assistant, self.system, self.messages):
            if name:
                used.add(name)
        return used


def suggest_mapping(columns: list[str]) -> tuple[ColumnMapping, bool]:
    """Guess a mapping from column names.

    Parameters
    ----------
    columns:
        The table's column names.

    Returns
    -------
    (mapping, needs_mapping):
        The best guess, and True when no user or no assistant column was found (the guess is
        then incomplete and must be completed by the user).
    """
    lowered = {c: c.strip().lower() for c in columns}
    system = next((c for c in columns if "system" in column_words(c)), None)
    id_column = next((c for c in columns if lowered[c] in ID_COLUMNS), None)
    user = [c for c in columns if c != system and column_role(c) == "user"]
    user.sort(key=lambda c: (column_rank(c, USER_WORDS), columns.index(c)))
    assistants = [c for c in columns if c != system and column_role(c) == "assistant"]
    assistants.sort(key=lambda c: (column_rank(c, ASSISTANT_WORDS), columns.index(c)))
    if not (user and assistants):
        chat = next((c for c in columns if lowered[c] in MESSAGES_WORDS), None)
        if chat is not None:
            return ColumnMapping(system=system, id=id_column, messages=chat), False
    mapping = ColumnMapping(
        user=user,
        assistant=assistants[0] if assistants else "",
        system=system,
        id=id_column,
    )
    return mapping, not (user and assistants)


def validate_mapping(mapping: ColumnMapping, columns: list[str]) -> None:
    """Raise `MappingError` unless every column the mapping names exists.

    Parameters
    ----------
    mapping:
        The mapping to check.
    columns:
        The columns the file has.
    """
    available = f"Available columns: {', '.join(columns) or 'none'}."
    if mapping.user_template and mapping.user:
        raise MappingError(
            "Give either user columns or a user-turn template, not both; the template "
            "names its columns itself."
        )
    has_user = bool(mapping.user) or bool(mapping.user_template)
    if not mapping.messages and not (has_user and mapping.assistant):
        raise MappingError(
            "A column mapping needs user column(s) or a user-turn template, and an assistant "
            f"column, or a messages column. {available}"
        )
    present = set(columns)
    if mapping.user_template:
        unknown = [c for c in template_columns(mapping.user_template) if c not in present]
        if unknown:
            names = ", ".join(repr(c) for c in unknown)
            raise MappingError(
                f"The user-turn template names column(s) {names} that the file does not have. "
                f"{available}"
            )
    named = [*mapping.user, mapping.assistant, mapping.system, mapping.id, mapping.messages]
    named += mapping.metadata or []
    for column in named:
        if column and column not in present:
            raise MappingError(f"Column {column!r} is not in the file. {available}")
    for rule in mapping.drop_where:
        if rule.column not in present:
            raise MappingError(
                f"The drop rule {rule.describe()!r} names column {rule.column!r}, which the "
                f"file does not have. {available}"
            )


def cell_text(record: dict[str, Any], column: str) -> str:
    """A cell as text: strings as they are, numbers and booleans written out, null as ``""``."""
    value = record.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise RecordError("non-text content", f"column {column!r} is {type_name(value)}, expected text")


def mapped_converter(mapping: ColumnMapping) -> Converter:
    """A converter that reads records through ``mapping``.

    Parameters
    ----------
    mapping:
        A mapping already checked with `validate_mapping`.
    """
    text_columns = mapping.text_columns()
    template = parse_template(mapping.user_template) if mapping.user_template else None

    def convert_mapped(record: dict[str, Any]) -> list[Converted]:
        for rule in mapping.drop_where:
            if rule.matches(record):
                raise RecordDropped(rule)
        messages: list[Message] = []
        if mapping.system:
            system = cell_text(record, mapping.system)
            if system.strip():
                messages.append(Message("system", system))
        if mapping.messages:
            turns = parse_chat(record.get(mapping.messages), what=mapping.messages)
            if any(m.role == "system" for m in turns):
                messages = []
            messages += turns
        else:
            if template is not None:
                user = render_template(template, record)
            else:
                user = join_text([cell_text(record, c) for c in mapping.user])
            messages.append(Message("user", user))
            messages.append(Message("assistant", cell_text(record, mapping.assistant)))
        messages = finish_turns(messages)  # an empty answer cell: the example needs an answer
        if mapping.metadata is None:
            metadata = metadata_from(record, text_columns)
        else:
            keep = set(mapping.metadata)
            metadata = metadata_from(record, {c for c in record if c not in keep})
        return [Converted(messages, metadata)]

    return convert_mapped


# Answers that stand for "no answer": SNLI writes "-" where annotators did not agree.
PLACEHOLDER_WORDS = frozenset({"n/a", "na", "nan", "null", "tbd", "todo", "unknown"})
PLACEHOLDER_MIN_ROWS = 3
PLACEHOLDER_MIN_SHARE = 0.01


def is_placeholder(text: str) -> bool:
    """True for an answer that stands for no answer: ``-``, ``N/A``, ``?``, ``...``, ``***``.

    That is one of `PLACEHOLDER_WORDS` (case-insensitive), or one non-alphanumeric symbol,
    possibly repeated. Empty answers never get this far (an empty turn is skipped).
    """
    value = text.strip()
    if not value:
        return False
    if value.casefold() in PLACEHOLDER_WORDS:
        return True
    return len(set(value)) == 1 and not value[0].isalnum() and not value[0].isspace()


def placeholder_warning(
    answers: Iterable[str], *, column: str | None = None, total: int | None = None
) -> str | None:
    """A warning when many answers look like placeholders, else None.

    Parameters
    ----------
    answers:
        Each imported example's answer (its last assistant turn).
    column:
        The answer column of a mapped table, so the warning can name the drop rule to use.
    total:
        Number of answers, when ``answers`` is not a list.

    Returns
    -------
    str | None
        Names the values and their counts, when at least `PLACEHOLDER_MIN_ROWS` answers or
        `PLACEHOLDER_MIN_SHARE` of them are placeholders.
    """
    items = list(answers)
    n = total if total is not None else len(items)
    found = Counter(a.strip() for a in items if is_placeholder(a))
    count = sum(found.values())
    if not count or (count < PLACEHOLDER_MIN_ROWS and count < PLACEHOLDER_MIN_SHARE * n):
        return None
    values = ", ".join(f"{v!r} x{k}" for v, k in found.most_common(5))
    where = f"the answer column {column!r}" if column else "their answer"
    if column:
        rule = DropRule(column, tuple(found))
        fix = (
            f"Leave those rows out with the drop rule {rule.describe()} "
            f"(command line: --drop-where {_cli_rule(rule)!r})."
        )
    else:
        fix = "Check them in Browse after the import, and reject or edit them."
    return (
        f"{count} of {n} examples have a placeholder as {where} ({values}): a model trained "
        f"on them learns to answer that. {fix}"
    )


def _cli_rule(rule: DropRule) -> str:
    if len(rule.values) == 1:
        return f"{rule.column}={rule.values[0]}"
    return f"{rule.column} in {json.dumps(list(rule.values), ensure_ascii=False)}"
