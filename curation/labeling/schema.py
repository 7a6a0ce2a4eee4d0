"""Label schemas: the fields annotators fill in, their validation, and their JSON form.

A project saves `LabelSchema.to_dict()` and reads it back with `LabelSchema.from_dict`; every
label value is checked by `LabelSchema.validate_labels` before it is stored.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol, runtime_checkable

from curation.errors import LabelError

__all__ = [
    "FIELD_KINDS",
    "SCHEMA_VERSION",
    "TIE",
    "VERDICTS",
    "ImportedLabel",
    "LabelField",
    "LabelSchema",
    "LabelValue",
    "MultiChoiceField",
    "PreferenceField",
    "RatingField",
    "SingleChoiceField",
    "TextField",
    "VerdictField",
    "field_from_dict",
    "field_from_metadata",
]

LabelValue = str | int | tuple[str, ...]
"""A canonical label value: an option (str), a rating or candidate index (int), or tags."""

SCHEMA_VERSION = 1
VERDICTS: tuple[str, ...] = ("accept", "needs_fix", "reject")
TIE = "tie"
FIELD_KINDS: tuple[str, ...] = (
    "single_choice",
    "multi_choice",
    "verdict",
    "rating",
    "text",
    "preference",
)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_OPTIONS = 500
MAX_OPTION_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2_000
MAX_GUIDELINES_LENGTH = 200_000
MAX_ANNOTATORS_PER_EXAMPLE = 50
MAX_TEXT_LENGTH = 100_000


@runtime_checkable
class LabelField(Protocol):
    """What every field kind offers (see the six dataclasses below)."""

    kind: ClassVar[str]
    agreement_level: ClassVar[str | None]
    name: str
    title: str
    description: str
    required: bool

    @property
    def display_title(self) -> str: ...

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue: ...

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue: ...

    def to_dict(self) -> dict[str, Any]: ...


# ------------------------------------------------------------------ shared checks


def _fail(where: str, message: str) -> LabelError:
    return LabelError(f"{where}: {message}")


def _show(values: Iterable[object], limit: int = 30) -> str:
    items = [repr(v) if not isinstance(v, str) else v for v in values]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", ... ({len(items) - limit} more)"
    return ", ".join(items)


def _check_common(f: Any) -> None:
    if not isinstance(f.name, str) or not _NAME.match(f.name):
        raise LabelError(
            f"field name {f.name!r} is not allowed: use 1-63 lower-case letters, digits or "
            "underscores, starting with a letter (e.g. 'topic' or 'answer_quality')"
        )
    where = f"field {f.name!r}"
    for attr, limit in (("title", MAX_TITLE_LENGTH), ("description", MAX_DESCRIPTION_LENGTH)):
        value = getattr(f, attr)
        if not isinstance(value, str):
            raise _fail(where, f"{attr} must be text, not {type(value).__name__} {value!r}")
        if len(value) > limit:
            raise _fail(where, f"{attr} has {len(value)} characters; at most {limit} allowed")
    if not isinstance(f.required, bool):
        raise _fail(where, f"required must be true or false, not {f.required!r}")


def _clean_options(where: str, options: object, *, at_least: int) -> tuple[str, ...]:
    if isinstance(options, str) or not isinstance(options, Iterable):
        raise _fail(where, f"options must be a list of texts, not {options!r}")
    cleaned: list[str] = []
    seen: dict[str, str] = {}
    for opt in options:
        if not isinstance(opt, str):
            raise _fail(where, f"option {opt!r} is not text; options must be texts")
        text = opt.strip()
        if not text:
            raise _fail(where, "an option is empty; every option needs a name")
        if len(text) > MAX_OPTION_LENGTH:
            raise _fail(
                where, f"option {text[:40]!r}... is longer than {MAX_OPTION_LENGTH} characters"
            )
        key = text.casefold()
        if key in seen:
            raise _fail(
                where,
                f"option {text!r} is given twice (as {seen[key]!r}); options must differ "
                "beyond letter case",
            )
        seen[key] = text
        cleaned.append(text)
    if len(cleaned) < at_least:
        raise _fail(where, f"needs at least {at_least} options, got {len(cleaned)}")
    if len(cleaned) > MAX_OPTIONS:
        raise _fail(where, f"has {len(cleaned)} options; at most {MAX_OPTIONS} allowed")
    return tuple(cleaned)


def _choice(where: str, value: object, options: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in options:
        return value
    raise _fail(where, f"{value!r} is not one of the allowed values: {_show(options)}")


def _loose_choice(where: str, raw: object, options: tuple[str, ...]) -> str:
    """An option from text that may differ in case or surrounding spaces."""
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    text = str(raw).strip() if raw is not None else ""
    by_key = {o.casefold(): o for o in options}
    found = by_key.get(text.casefold())
    if found is None:
        raise _fail(where, f"{raw!r} is not one of the allowed values: {_show(options)}")
    return found


def _integer(where: str, value: object) -> int:
    if isinstance(value, bool):
        raise _fail(where, f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise _fail(where, f"{value!r} is not a whole number")


def _base_dict(f: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": f.kind, "name": f.name}
    if f.title:
        out["title"] = f.title
    if f.description:
        out["description"] = f.description
    if f.required:
        out["required"] = True
    return out


# ------------------------------------------------------------------ the six field kinds


@dataclass(frozen=True, slots=True)
class SingleChoiceField:
    """One category out of several (a topic, Dolly's task category, a KTO-style label).

    Attributes
    ----------
    name:
        Identifier, lower-case (``"topic"``); also the key in label files.
    options:
        At least two distinct names (differing beyond letter case), in display order.
    title, description:
        What the annotator sees (defaults to the name) and a short help text.
    required:
        Whether a submitted annotation must have a value for this field.
    """

    kind: ClassVar[str] = "single_choice"
    agreement_level: ClassVar[str | None] = "nominal"
    name: str
    options: tuple[str, ...]
    title: str = ""
    description: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        where = f"field {self.name!r}"
        object.__setattr__(self, "options", _clean_options(where, self.options, at_least=2))

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue:
        """The value itself when it is exactly one of the options, else `LabelError`."""
        return _choice(f"field {self.name!r}", value, self.options)

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue:
        """Like `validate`, but matches text ignoring letter case and surrounding spaces."""
        return _loose_choice(f"field {self.name!r}", raw, self.options)

    def to_dict(self) -> dict[str, Any]:
        out = _base_dict(self)
        out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class MultiChoiceField:
    """Any number of tags out of a fixed list; the value is a tuple in the options' order.

    Attributes
    ----------
    name, title, description:
        As for `SingleChoiceField`.
    options:
        At least one distinct tag name.
    required:
        When true, a submitted annotation must select at least one tag.
    """

    kind: ClassVar[str] = "multi_choice"
    agreement_level: ClassVar[str | None] = "set"
    name: str
    options: tuple[str, ...]
    title: str = ""
    description: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        where = f"field {self.name!r}"
        object.__setattr__(self, "options", _clean_options(where, self.options, at_least=1))

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def _canonical(self, chosen: list[str]) -> tuple[str, ...]:
        picked = set(chosen)
        return tuple(o for o in self.options if o in picked)

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue:
        """Tags as a tuple in option order (repeats dropped); unknown tags are an error."""
        where = f"field {self.name!r}"
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise _fail(
                where, f"{value!r} is not a list of tags; allowed tags: {_show(self.options)}"
            )
        unknown = [v for v in value if not isinstance(v, str) or v not in self.options]
        if unknown:
            raise _fail(
                where,
                f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not "
                f"among the allowed tags: {_show(self.options)}",
            )
        return self._canonical([str(v) for v in value])

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue:
        """Tags from a list, a JSON list in text, or text separated by ``;`` (or ``,``)."""
        items: list[object]
        if isinstance(raw, list | tuple | set | frozenset):
            items = list(raw)
        elif raw is None:
            items = []
        else:
            text = str(raw).strip()
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise _fail(
                        f"field {self.name!r}", f"{text!r} is not a JSON list: {exc}"
                    ) from exc
                items = list(parsed) if isinstance(parsed, list) else [parsed]
            else:
                sep = ";" if ";" in text else ","
                items = [part for part in text.split(sep) if part.strip()]
        where = f"field {self.name!r}"
        return self._canonical([_loose_choice(where, item, self.options) for item in items])

    def to_dict(self) -> dict[str, Any]:
        out = _base_dict(self)
        out["options"] = list(self.options)
        return out


@dataclass(frozen=True, slots=True)
class VerdictField:
    """The quality verdict on an example: ``accept``, ``needs_fix`` or ``reject``."""

    kind: ClassVar[str] = "verdict"
    agreement_level: ClassVar[str | None] = "nominal"
    options: ClassVar[tuple[str, ...]] = VERDICTS
    name: str = "verdict"
    title: str = ""
    description: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        _check_common(self)

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue:
        return _choice(f"field {self.name!r}", value, VERDICTS)

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue:
        """Also reads ``needs fix`` and ``needs-fix`` as ``needs_fix``."""
        text = str(raw).strip().casefold().replace(" ", "_").replace("-", "_")
        return _loose_choice(f"field {self.name!r}", text if raw is not None else raw, VERDICTS)

    def to_dict(self) -> dict[str, Any]:
        return _base_dict(self)


@dataclass(frozen=True, slots=True)
class RatingField:
    """A whole-number rating on a scale, 1-5 by default; its agreement is ordinal.

    Attributes
    ----------
    low, high:
        The scale's ends, whole numbers with ``low < high`` and at most 11 points.
    """

    kind: ClassVar[str] = "rating"
    agreement_level: ClassVar[str | None] = "ordinal"
    name: str = "rating"
    low: int = 1
    high: int = 5
    title: str = ""
    description: str = ""
    required: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        where = f"field {self.name!r}"
        for attr in ("low", "high"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(where, f"{attr} must be a whole number, not {value!r}")
        if not self.low < self.high or self.high - self.low > 10:
            raise _fail(
                where,
                f"the scale {self.low}-{self.high} is not allowed: low must be below high "
                "with at most 11 points (e.g. 1-5 or 0-10)",
            )

    @property
    def display_title(self) -> str:
        return self.title or self.name

    @property
    def options(self) -> tuple[int, ...]:
        """Every point of the scale, lowest first."""
        return tuple(range(self.low, self.high + 1))

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue:
        where = f"field {self.name!r}"
        number = _integer(where, value)
        if not self.low <= number <= self.high:
            raise _fail(where, f"{value!r} is outside the scale {self.low}-{self.high}")
        return number

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue:
        """Also reads whole numbers written as text (``"4"``, ``"4.0"``)."""
        if isinstance(raw, str):
            text = raw.strip()
            try:
                raw = float(text) if "." in text else int(text)
            except ValueError as exc:
                raise _fail(
                    f"field {self.name!r}",
                    f"{text!r} is not a rating; give a whole number {self.low}-{self.high}",
                ) from exc
        return self.validate(raw)

    def to_dict(self) -> dict[str, Any]:
        out = _base_dict(self)
        out["low"], out["high"] = self.low, self.high
        return out


@dataclass(frozen=True, slots=True)
class TextField:
    """A free-text note; annotators' notes are kept each, never voted on."""

    kind: ClassVar[str] = "text"
    agreement_level: ClassVar[str | None] = None
    name: str = "note"
    title: str = ""
    description: str = ""
    required: bool = False
    max_length: int = 5_000

    def __post_init__(self) -> None:
        _check_common(self)
        if (
            isinstance(self.max_length, bool)
            or not isinstance(self.max_length, int)
            or not 1 <= self.max_length <= MAX_TEXT_LENGTH
        ):
            raise _fail(
                f"field {self.name!r}",
                f"max_length must be a whole number 1-{MAX_TEXT_LENGTH}, not {self.max_length!r}",
            )

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue:
        """The text with surrounding white space removed; empty text is an error."""
        where = f"field {self.name!r}"
        if not isinstance(value, str):
            raise _fail(where, f"{value!r} is not text")
        text = value.strip()
        if not text:
            raise _fail(where, "the note is empty; write something or leave the field out")
        if len(text) > self.max_length:
            raise _fail(where, f"the note has {len(text)} characters; at most {self.max_length}")
        return text

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue:
        return self.validate("" if raw is None else str(raw))

    def to_dict(self) -> dict[str, Any]:
        out = _base_dict(self)
        if self.max_length != 5_000:
            out["max_length"] = self.max_length
        return out


@dataclass(frozen=True, slots=True)
class PreferenceField:
    """Which candidate answer of a preference example is better, or a tie.

    The value is the candidate's 0-based index in the example's candidate list, or ``"tie"``.
    It applies only to examples with two or more candidates.

    Attributes
    ----------
    allow_tie:
        Whether ``"tie"`` is an allowed answer.
    """

    kind: ClassVar[str] = "preference"
    agreement_level: ClassVar[str | None] = "nominal"
    name: str = "preferred"
    title: str = ""
    description: str = ""
    required: bool = False
    allow_tie: bool = True

    def __post_init__(self) -> None:
        _check_common(self)
        if not isinstance(self.allow_tie, bool):
            raise _fail(
                f"field {self.name!r}", f"allow_tie must be true or false, not {self.allow_tie!r}"
            )

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def _allowed(self, n_candidates: int | None) -> str:
        idx = f"0-{n_candidates - 1}" if n_candidates else "a candidate index (0, 1, ...)"
        return f"{idx}{' or ' + repr(TIE) if self.allow_tie else ''}"

    def validate(self, value: object, *, n_candidates: int | None = None) -> LabelValue:
        """The candidate index (checked against `n_candidates` when given) or ``"tie"``."""
        where = f"field {self.name!r}"
        if n_candidates is not None and n_candidates < 2:
            raise _fail(
                where,
                f"this example has {n_candidates} candidate answer(s); a preference needs two "
                "or more",
            )
        if value == TIE and isinstance(value, str):
            if not self.allow_tie:
                raise _fail(where, f"a tie is not allowed here; give {self._allowed(n_candidates)}")
            return TIE
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, f"{value!r} is not allowed; give {self._allowed(n_candidates)}")
        if value < 0 or (n_candidates is not None and value >= n_candidates):
            raise _fail(where, f"{value!r} is not allowed; give {self._allowed(n_candidates)}")
        return value

    def coerce(self, raw: object, *, n_candidates: int | None = None) -> LabelValue:
        """Also reads indices written as text and ``"Tie"`` in any letter case."""
        if isinstance(raw, str):
            text = raw.strip()
            if text.casefold() == TIE:
                raw = TIE
            elif text.isdigit():
                raw = int(text)
        elif isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return self.validate(raw, n_candidates=n_candidates)

    def to_dict(self) -> dict[str, Any]:
        out = _base_dict(self)
        if not self.allow_tie:
            out["allow_tie"] = False
        return out


_FIELD_CLASSES: dict[str, type] = {
    cls.kind: cls
    for cls in (
        SingleChoiceField,
        MultiChoiceField,
        VerdictField,
        RatingField,
        TextField,
        PreferenceField,
    )
}


def _keys_of(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _check_keys(where: str, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise _fail(where, f"unknown key(s) {_show(unknown)}; allowed: {_show(allowed)}")


def field_from_dict(data: Mapping[str, Any]) -> LabelField:
    """Build a field from its `to_dict` form, with errors naming the bad key or value."""
    if not isinstance(data, Mapping):
        raise LabelError(f"a field must be an object with 'kind' and 'name', not {data!r}")
    kind = data.get("kind")
    name = data.get("name", "?")
    cls = _FIELD_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise LabelError(f"field {name!r}: kind {kind!r} is not one of {_show(FIELD_KINDS)}")
    allowed = ("kind", *_keys_of(cls))
    _check_keys(f"field {name!r}", data, allowed)
    kwargs = {k: v for k, v in data.items() if k != "kind"}
    if "options" in kwargs and isinstance(kwargs["options"], list):
        kwargs["options"] = tuple(kwargs["options"])
    try:
        made: LabelField = cls(**kwargs)
    except TypeError as exc:  # a required key is missing
        raise LabelError(f"field {name!r} ({kind}): {exc}") from exc
    return made


def field_from_metadata(
    name: str, values: Iterable[object], *, multi: bool = False, **options: Any
) -> SingleChoiceField | MultiChoiceField:
    """A choice field whose options are the distinct values seen in a metadata column.

    Parameters
    ----------
    name:
        The new field's name.
    values:
        The metadata values (None and empty ones are skipped; lists count each item).
    multi:
        Build a `MultiChoiceField` instead of a `SingleChoiceField`.
    **options:
        Further field attributes (``title``, ``description``, ``required``).
    """
    seen: dict[str, str] = {}
    for value in values:
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item).strip()
            if text:
                seen.setdefault(text.casefold(), text)
    ordered = tuple(sorted(seen.values(), key=str.casefold))
    if multi:
        return MultiChoiceField(name=name, options=ordered, **options)
    return SingleChoiceField(name=name, options=ordered, **options)


# ------------------------------------------------------------------ imported labels


@dataclass(frozen=True, slots=True)
class ImportedLabel:
    """A metadata field adopted as the example's *imported* label for one schema field.

    Imported labels come with the data (Dolly's ``category``, a ``label`` column, a KTO
    ``label``); they are kept apart from annotators' labels and never count in agreement.

    Attributes
    ----------
    metadata_key:
        The key in `Example.metadata`.
    field:
        The schema field it fills.
    value_map:
        Optional translation of raw values (compared as text, ignoring letter case) into the
        field's values, e.g. ``{"true": "accept", "false": "reject"}`` for a KTO label.
    """

    metadata_key: str
    field: str
    value_map: Mapping[str, str] | tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.metadata_key, str) or not self.metadata_key.strip():
            raise LabelError(
                f"imported label: metadata_key must be a non-empty text, not {self.metadata_key!r}"
            )
        if not isinstance(self.field, str) or not self.field:
            raise LabelError(
                f"imported label {self.metadata_key!r}: field must be a field name, not {self.field!r}"
            )
        pairs = self.value_map.items() if isinstance(self.value_map, Mapping) else self.value_map
        items: list[tuple[object, object]]
        try:
            items = [(k, v) for k, v in pairs]
        except (TypeError, ValueError):
            items = [(None, None)]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in items):
            raise LabelError(
                f"imported label {self.metadata_key!r}: value_map must map texts to texts, "
                f"not {self.value_map!r}"
            )
        # Stored as sorted pairs so the dataclass stays hashable; keys compared case-folded.
        normalised = tuple(sorted((str(k).strip().casefold(), str(v)) for k, v in items))
        object.__setattr__(self, "value_map", normalised)

    def translate(self, raw: object) -> object:
        """The raw metadata value after `value_map` (unchanged when it has no entry)."""
        if not self.value_map:
            return raw
        key = ("true" if raw else "false") if isinstance(raw, bool) else str(raw).strip()
        return dict(self.value_map).get(key.casefold(), raw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metadata_key": self.metadata_key, "field": self.field}
        if self.value_map:
            out["value_map"] = dict(self.value_map)
        return out


# ------------------------------------------------------------------ the schema


@dataclass(frozen=True, slots=True)
class LabelSchema:
    """What a project labels: fields, guidelines, annotators per example, imported labels.

    Attributes
    ----------
    fields:
        The label fields in display order; names unique; at most one preference field.
    guidelines:
        Annotation guidelines as markdown (the page renders them safely).
    annotators_per_example:
        How many distinct annotators each example needs (1-50); the queue hands out work
        until each example has that many, and final labels wait for them.
    imported:
        Metadata fields adopted as imported labels, each for one schema field.
    """

    fields: tuple[LabelField, ...]
    guidelines: str = ""
    annotators_per_example: int = 1
    imported: tuple[ImportedLabel, ...] = ()

    def __post_init__(self) -> None:
        fields_ = tuple(self.fields) if isinstance(self.fields, list | tuple) else self.fields
        if not isinstance(fields_, tuple) or not fields_:
            raise LabelError("a label schema needs at least one field")
        for f in fields_:
            if type(f) not in _FIELD_CLASSES.values():
                raise LabelError(f"{f!r} is not a label field; use one of {_show(FIELD_KINDS)}")
        names = [f.name for f in fields_]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise LabelError(
                f"field name(s) {', '.join(map(repr, repeated))} used more than once; names "
                "must be unique"
            )
        preference = [f.name for f in fields_ if f.kind == "preference"]
        if len(preference) > 1:
            raise LabelError(
                f"only one preference field is allowed, found {', '.join(map(repr, preference))}"
            )
        object.__setattr__(self, "fields", fields_)
        if not isinstance(self.guidelines, str):
            raise LabelError(
                f"guidelines must be markdown text, not {type(self.guidelines).__name__}"
            )
        if len(self.guidelines) > MAX_GUIDELINES_LENGTH:
            raise LabelError(
                f"guidelines have {len(self.guidelines)} characters; at most "
                f"{MAX_GUIDELINES_LENGTH} allowed"
            )
        k = self.annotators_per_example
        if (
            isinstance(k, bool)
            or not isinstance(k, int)
            or not 1 <= k <= MAX_ANNOTATORS_PER_EXAMPLE
        ):
            raise LabelError(
                f"annotators_per_example must be a whole number 1-{MAX_ANNOTATORS_PER_EXAMPLE}, "
                f"not {k!r}"
            )
        imported = tuple(self.imported)
        by_name = {f.name: f for f in fields_}
        targets: set[str] = set()
        for imp in imported:
            if not isinstance(imp, ImportedLabel):
                raise LabelError(f"{imp!r} is not an ImportedLabel")
            if imp.field not in by_name:
                raise LabelError(
                    f"imported label {imp.metadata_key!r} fills field {imp.field!r}, which is not "
                    f"in the schema; fields: {_show(names)}"
                )
            if imp.field in targets:
                raise LabelError(
                    f"field {imp.field!r} is filled by more than one imported metadata field"
                )
            targets.add(imp.field)
        object.__setattr__(self, "imported", imported)

    # -------------------------------------------------------------- lookups

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> LabelField:
        """The field called `name`, or `LabelError` naming the fields there are."""
        for f in self.fields:
            if f.name == name:
                return f
        raise LabelError(f"there is no label field {name!r}; fields: {_show(self.field_names)}")

    @property
    def preference_field(self) -> PreferenceField | None:
        for f in self.fields:
            if isinstance(f, PreferenceField):
                return f
        return None

    # -------------------------------------------------------------- values

    def _labels(
        self,
        values: Mapping[str, object],
        n_candidates: int | None,
        complete: bool,
        lenient: bool,
    ) -> dict[str, LabelValue]:
        if not isinstance(values, Mapping):
            raise LabelError(f"labels must be given as field -> value, not {values!r}")
        unknown = [k for k in values if k not in self.field_names]
        if unknown:
            raise LabelError(
                f"unknown label field(s) {_show(unknown)}; fields: {_show(self.field_names)}"
            )
        out: dict[str, LabelValue] = {}
        for f in self.fields:
            if f.name not in values:
                continue
            raw = values[f.name]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if f.kind == "preference" and (n_candidates is not None and n_candidates < 2):
                raise LabelError(
                    f"field {f.name!r}: this example has {n_candidates} candidate answer(s); "
                    "only examples with two or more take a preference"
                )
            check = f.coerce if lenient else f.validate
            out[f.name] = check(raw, n_candidates=n_candidates)
        if complete:
            missing = [
                f.name
                for f in self.fields
                if f.required
                and (f.name not in out or out[f.name] == ())
                and not (f.kind == "preference" and (n_candidates or 0) < 2)
            ]
            if missing:
                raise LabelError(f"required field(s) {_show(missing)} have no value")
        return out

    def validate_labels(
        self,
        values: Mapping[str, object],
        *,
        n_candidates: int | None = None,
        complete: bool = False,
    ) -> dict[str, LabelValue]:
        """Check one annotation (field -> value) and return it in canonical form.

        Parameters
        ----------
        values:
            Field name -> value as the page or the API gives it. None and empty text mean
            "no value" and are left out; an empty tag list is a value ("no tag applies").
        n_candidates:
            The example's number of candidate answers, when known: preference values are
            checked against it, and examples without candidates refuse a preference.
        complete:
            Also require every ``required`` field (a submitted annotation); a preference field
            is only required on examples with two or more candidates.

        Returns
        -------
        dict
            Field -> canonical value (`LabelValue`), in the schema's field order.

        Raises
        ------
        LabelError
            Naming the field, the bad value and the allowed values.
        """
        return self._labels(values, n_candidates, complete, lenient=False)

    def coerce_labels(
        self,
        values: Mapping[str, object],
        *,
        n_candidates: int | None = None,
        complete: bool = False,
    ) -> dict[str, LabelValue]:
        """Like `validate_labels`, for text from files: matches options ignoring letter case,
        reads numbers written as text and tags separated by ``;``."""
        return self._labels(values, n_candidates, complete, lenient=True)

    def imported_labels(
        self, metadata: Mapping[str, Any], *, n_candidates: int | None = None
    ) -> tuple[dict[str, LabelValue], list[str]]:
        """The example's imported labels from its metadata, and what could not be adopted.

        Returns
        -------
        tuple
            ``(field -> value, problems)``: each problem names the metadata key, the raw
            value and the allowed values; a missing or empty metadata value is no problem.
        """
        values: dict[str, LabelValue] = {}
        problems: list[str] = []
        for imp in self.imported:
            raw = metadata.get(imp.metadata_key)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            f = self.field(imp.field)
            try:
                values[f.name] = f.coerce(imp.translate(raw), n_candidates=n_candidates)
            except LabelError as exc:
                problems.append(f"metadata {imp.metadata_key!r} = {raw!r}: {exc}")
        return values, problems

    # -------------------------------------------------------------- JSON

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that `from_dict` reads back into an equal schema."""
        return {
            "version": SCHEMA_VERSION,
            "fields": [f.to_dict() for f in self.fields],
            "guidelines": self.guidelines,
            "annotators_per_example": self.annotators_per_example,
            "imported": [imp.to_dict() for imp in self.imported],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelSchema:
        """Read a schema saved by `to_dict`, with errors naming the bad key or value."""
        if not isinstance(data, Mapping):
            raise LabelError(f"a label schema must be a JSON object, not {type(data).__name__}")
        _check_keys(
            "label schema",
            data,
            ("version", "fields", "guidelines", "annotators_per_example", "imported"),
        )
        version = data.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise LabelError(
                f"label schema version {version!r} is not supported; this app reads version "
                f"{SCHEMA_VERSION} (a newer app may have saved it)"
            )
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list):
            raise LabelError(f"label schema: 'fields' must be a list, not {raw_fields!r}")
        raw_imported = data.get("imported", [])
        if not isinstance(raw_imported, list):
            raise LabelError(f"label schema: 'imported' must be a list, not {raw_imported!r}")
        imported = []
        for item in raw_imported:
            if not isinstance(item, Mapping):
                raise LabelError(f"imported label must be an object, not {item!r}")
            _check_keys("imported label", item, ("metadata_key", "field", "value_map"))
            try:
                imported.append(ImportedLabel(**item))
            except TypeError as exc:
                raise LabelError(f"imported label {dict(item)!r}: {exc}") from exc
        return cls(
            fields=tuple(field_from_dict(f) for f in raw_fields),
            guidelines=data.get("guidelines", ""),
            annotators_per_example=data.get("annotators_per_example", 1),
            imported=tuple(imported),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LabelSchema:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabelError(f"the label schema is not valid JSON: {exc}") from exc
        return cls.from_dict(data)
