"""The quality-check contract: `check(example) -> Keep | Flag`, and the registry of checks.

In the manner of datatrove filters: a check owns one judgement and its thresholds, nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

from curation.errors import InputError
from curation.quality.settings import CheckSettings, NoSettings
from curation.quality.view import ExampleView, line_column
from curation.registry import CodeRegistry

if TYPE_CHECKING:
    from curation.quality.config import QualityConfig

__all__ = [
    "KEEP",
    "CheckResult",
    "DatasetCheck",
    "ExampleCheck",
    "Flag",
    "FlagRegistry",
    "Keep",
    "Location",
    "QualityCheck",
    "registry",
]


class Keep:
    """The verdict "nothing to flag"; use the `KEEP` singleton."""

    _instance: ClassVar[Keep | None] = None

    def __new__(cls) -> Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"

    def __bool__(self) -> bool:
        return False


KEEP: Final = Keep()


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an example a flag points: a message and a character range in its text.

    Attributes
    ----------
    turn:
        0-based index of the message in the conversation.
    start, end:
        Character offsets in that message's text (``end`` exclusive), or None for the whole turn.
    line, column:
        1-based line and column of ``start`` in that message's text.
    field:
        What the offsets are in when it is not the message's text: ``"tool_calls"`` (the call's
        ``arguments``, with ``call`` its index), or None.
    call:
        Index of the tool call, for ``field="tool_calls"``.
    """

    turn: int
    start: int | None = None
    end: int | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    call: int | None = None

    @classmethod
    def at(
        cls,
        turn: int,
        text: str,
        start: int,
        end: int | None = None,
        *,
        field: str | None = None,
        call: int | None = None,
    ) -> Location:
        """A location at `start` (to `end`) of `text`, with its line and column filled in."""
        start = max(0, min(start, len(text)))
        line, column = line_column(text, start)
        end = start if end is None else max(start, min(end, len(text)))
        return cls(turn, start, end, line, column, field, call)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in _location_items(self) if v is not None}


def _location_items(loc: Location) -> Iterator[tuple[str, Any]]:
    yield "turn", loc.turn
    yield "start", loc.start
    yield "end", loc.end
    yield "line", loc.line
    yield "column", loc.column
    yield "field", loc.field
    yield "call", loc.call


@dataclass(frozen=True, slots=True)
class Flag:
    """A check's verdict that an example has a problem.

    Attributes
    ----------
    code:
        The check's code (``"empty_answer"``, ``"truncated"``...): what the Quality page counts.
    score:
        In [0, 1], low = bad (cleanlab's convention): how sure or how bad.
    reason:
        A sentence for the annotator, naming what was found.
    kind:
        A sub-kind within the code (``"unclosed_fence"``, ``"json"``...), or None.
    location:
        Where it is, when it is somewhere in particular.
    suggestion:
        What the check proposes instead, when it knows (the majority answer of a group).
    data:
        Small JSON extras (counts, the matched phrase, the expected length...).
    """

    code: str
    score: float
    reason: str
    kind: str | None = None
    location: Location | None = None
    suggestion: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a flag's score must be in [0, 1], not {self.score!r} ({self.code})")


CheckResult = Keep | Flag


class QualityCheck(ABC):
    """Base of every check: a code, a title, documented settings, and `from_config`.

    Subclasses set ``code`` (stable, snake_case; stored with every result), ``title`` (shown
    in the app), ``description`` (one sentence: what it flags and why it matters), and
    ``Settings`` (a `CheckSettings` subclass whose docstring gives each threshold's reason).
    """

    code: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    Settings: ClassVar[type[CheckSettings]] = NoSettings
    # False for checks that only run when asked (e.g. the structure check needs expectations).
    default_enabled: ClassVar[bool] = True

    def __init__(self, settings: CheckSettings | None = None) -> None:
        settings = self.Settings() if settings is None else settings
        if not isinstance(settings, self.Settings):
            raise InputError(
                f"check {self.code!r} takes {self.Settings.__name__}, not {type(settings).__name__}"
            )
        self.settings = settings

    @classmethod
    def from_config(cls, config: QualityConfig) -> QualityCheck:
        """The check set up as `config` asks (its settings, or the defaults)."""
        return cls(config.settings_for(cls.code))

    def flag(
        self,
        score: float,
        reason: str,
        *,
        kind: str | None = None,
        location: Location | None = None,
        suggestion: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Flag:
        """A `Flag` with this check's code (score clipped into [0, 1])."""
        return Flag(
            self.code,
            min(1.0, max(0.0, float(score))),
            reason,
            kind,
            location,
            suggestion,
            dict(data or {}),
        )


class ExampleCheck(QualityCheck):
    """A check that judges one example at a time."""

    scope: ClassVar[Literal["example"]] = "example"

    @abstractmethod
    def check(self, example: ExampleView) -> CheckResult:
        """`KEEP`, or a `Flag` naming what is wrong with `example`."""


class DatasetCheck(QualityCheck):
    """A check that needs every example before it can judge any (conflicting answers).

    The runner calls `observe` on each example, batch after batch, then `finish` once.
    Keep only small keys per example in `observe`: a project may hold many thousands.
    """

    scope: ClassVar[Literal["dataset"]] = "dataset"

    @abstractmethod
    def observe(self, example: ExampleView) -> None:
        """Remember what `finish` needs of `example`."""

    def observe_batch(self, examples: Sequence[ExampleView]) -> None:
        """`observe` each of `examples` (override to work on a batch at once)."""
        for example in examples:
            self.observe(example)

    @abstractmethod
    def finish(self) -> Iterable[tuple[str, Flag]]:
        """``(example_id, flag)`` for every flagged example."""


class FlagRegistry(CodeRegistry[type[QualityCheck]]):
    """The known checks by code, in registration order (the order the page lists them).

    Adding a check is one class and one `register` line (`curation.quality.builtin`).
    """

    def __init__(self) -> None:
        super().__init__("quality flag", "flags")

    def codes(self, *, default_only: bool = False) -> tuple[str, ...]:
        """Every registered code (or only those that run unless asked not to)."""
        return tuple(c for c, k in self._checks.items() if k.default_enabled or not default_only)


registry = FlagRegistry()
"""The default registry; `curation.quality.builtin` registers the built-in checks in it."""
