"""The contract every curation step follows: a name, a validated config, a per-batch `run`, and
what the step adds to the project's stats, the dataset card and the readiness summary.

In the manner of cleanlab's issue managers: a step returns a per-example table, a one-row summary
with a severity and an info dict; the registry (`curation.steps.registry`) lists the steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, Self, runtime_checkable

from curation.errors import CurationError, InputError
from curation.progress import ProgressFn, report
from curation.records import Example
from curation.store.step_results import StepResult as StepRow

if TYPE_CHECKING:
    from curation.export.readiness import ReadinessItem
    from curation.store import Store

__all__ = [
    "CHECKS",
    "DATA",
    "ConfigLike",
    "Severity",
    "Step",
    "StepConfig",
    "StepError",
    "StepResult",
    "StepRow",
    "StepSummary",
    "batched",
    "summarise_rows",
]

Severity = Literal["ok", "info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("ok", "info", "warning", "critical")

# where a step's readiness items go: among the checks after the split's size, or among the
# items about what kind of data goes out (after "left out")
CHECKS = "checks"
DATA = "data"

DEFAULT_BATCH = 500


class StepError(CurationError):
    """A step cannot do what was asked (it does not run on batches, bad input for it...)."""


@runtime_checkable
class ConfigLike(Protocol):
    """What a step's ``Config`` class offers: built from a dict and back, validated on build."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Any: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StepConfig:
    """Base of a step's frozen config: subclasses add fields and check them in `validate`.

    `from_dict` refuses unknown keys (naming the allowed ones) and wrong types; `validate`
    raises `InputError` naming the bad value and the allowed ones.
    """

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `InputError` for a value outside the allowed range (subclasses override)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Self:
        data = dict(data or {})
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise InputError(
                f"unknown {cls.__qualname__} key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(allowed) or 'none'}"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise InputError(f"{cls.__qualname__}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class StepSummary:
    """A run in one row: how serious, how many examples looked at and flagged, per code.

    Attributes
    ----------
    severity:
        ``ok`` (nothing found), ``info``, ``warning`` or ``critical``.
    n_examples, n_flagged:
        Examples the step looked at; distinct examples with at least one row.
    counts:
        Examples per code, most first.
    message:
        One sentence for the user.
    """

    severity: Severity
    n_examples: int
    n_flagged: int
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise InputError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")

    def stats(self) -> dict[str, Any]:
        """The numbers a step run keeps (`Store.save_step_results`'s ``stats``)."""
        return {
            "examples_checked": self.n_examples,
            "flagged": self.n_flagged,
            "severity": self.severity,
            **self.counts,
        }


@dataclass(slots=True)
class StepResult:
    """What `Step.run` returns.

    Attributes
    ----------
    rows:
        The per-example table: one `StepRow` (example id, code, score in [0, 1] with low = bad,
        reason, suggestion, detail) per finding, in input order.
    summary:
        The one-row summary with its severity.
    info:
        JSON-ready details of the run (settings used, timings, what was skipped).
    native:
        The step package's own report when the adapter wraps one (not JSON; not saved).
    """

    rows: list[StepRow]
    summary: StepSummary
    info: dict[str, Any] = field(default_factory=dict)
    native: Any = field(default=None, repr=False, compare=False)


def summarise_rows(
    rows: Sequence[StepRow], n_examples: int, *, severity: Severity | None = None, what: str = ""
) -> StepSummary:
    """The summary of a per-example table: ``warning`` when any example is flagged, else ``ok``."""
    by_code: dict[str, set[str]] = {}
    for row in rows:
        by_code.setdefault(row.code, set()).add(row.example_id)
    counts = {c: len(ids) for c, ids in by_code.items()}
    counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    flagged = len({row.example_id for row in rows})
    level: Severity = severity or ("warning" if flagged else "ok")
    message = f"{flagged} of {n_examples} examples flagged" + (f" ({what})" if what else "")
    return StepSummary(level, n_examples, flagged, counts, message)


def batched(examples: Iterable[Example], size: int = DEFAULT_BATCH) -> Iterator[list[Example]]:
    """`examples` in lists of at most `size`, the shape `Step.run` takes."""
    batch: list[Example] = []
    for example in examples:
        batch.append(example)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Step:
    """One curation step. Subclass it, set the class attributes, override what applies.

    Class attributes
    ----------------
    name:
        snake_case key: of the step's block in `curation_stats`, its card row and its config.
    title:
        How people call it ("Deduplicate").
    Config:
        A frozen, validated config class with ``from_dict`` / ``to_dict`` (`StepConfig` or a
        step package's own, such as `QualityConfig`).
    run_names:
        The names its runs have in the store's step runs (default its `name`); the sidebar
        maps them back to the step.
    results_step:
        The step-run name whose per-example rows it stores (None: it keeps none), what
        ``ExampleFilter.step_flag`` and Browse filter on.
    readiness_group, readiness_rank:
        Where its readiness items go (`CHECKS` or `DATA`) and in which order among them.

    Methods
    -------
    run(batches, config, progress) -> StepResult
        The work on examples, batch by batch; no store needed.
    run_project(store, project, config, *, author, progress) -> int | None
        Run it on a stored project and save the run (default: `run` over the active examples,
        saved with `Store.save_step_results`); returns the run's id.
    stats(store, project) -> dict | None
        Its block of `curation_stats` (None when never run).
    card_section(stats) -> list[str]
        Its rows of the card's Curation table (default: one row of its numbers and notes).
    readiness_items(stats, *, n_examples) -> list[ReadinessItem]
        What it adds to the readiness summary (default: none).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    Config: ClassVar[type[Any]] = StepConfig
    run_names: ClassVar[tuple[str, ...]] = ()
    results_step: ClassVar[str | None] = None
    readiness_group: ClassVar[str] = CHECKS
    readiness_rank: ClassVar[int] = 100

    # ---- configuration ------------------------------------------------------------------

    def config(self, data: Mapping[str, Any] | Any | None = None) -> Any:
        """A validated config from a dict (or the config itself); None gives the defaults."""
        if isinstance(data, self.Config):
            return data
        if data is not None and not isinstance(data, Mapping):
            raise InputError(
                f"the {self.name} step's config must be an object or a {self.Config.__name__}, "
                f"not {type(data).__name__}"
            )
        return self.Config.from_dict(data)

    def store_names(self) -> tuple[str, ...]:
        return self.run_names or (self.name,)

    def code_title(self, code: str) -> str:
        """How people call one of its result codes (default: the code itself)."""
        return code

    # ---- work ---------------------------------------------------------------------------

    def run(
        self,
        batches: Iterable[Sequence[Example]],
        config: Any,
        progress: ProgressFn | None = None,
    ) -> StepResult:
        raise StepError(f"The {self.title or self.name} step does not run on batches of examples.")

    def run_project(
        self,
        store: Store,
        project: str,
        config: Any,
        *,
        author: str,
        progress: ProgressFn | None = None,
    ) -> int | None:
        """Run `run` over the project's active examples and save its rows; the run's id."""
        from curation.store import ExampleFilter

        flt = ExampleFilter(statuses=["active"])
        total = store.count_examples(project, flt)
        examples = (row.example for row in store.iter_examples(project, flt))
        report(progress, self.name, 0, total)
        result = self.run(batched(examples), config, progress)
        report(progress, f"{self.name}: saving", 0, None)
        step = self.results_step or self.store_names()[0]
        return store.save_step_results(
            project,
            step,
            config.to_dict(),
            result.summary.stats(),
            result.rows,
            author,
            result={"summary": dataclasses.asdict(result.summary), "info": result.info},
        )

    # ---- what the export reads ----------------------------------------------------------

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        """Default: the latest run's saved numbers, ``flagged_active`` (flagged examples still
        active now) and a note naming the run; None when never run."""
        step = self.results_step or self.store_names()[0]
        run = store.latest_step_run(project, step)
        if run is None:
            return None
        out = dict(run.get("stats") or {})
        if self.results_step is not None:
            out["flagged_active"] = store.step_result_total(
                project, step, run_id=run["id"], statuses=["active"]
            )
        out["notes"] = f"run {run['id']} by {run['author']}"
        return out

    def card_section(self, stats: Mapping[str, Any] | None) -> list[str]:
        from curation.export.card import step_row

        return [step_row(self.name, stats)]

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """Default, for a step that keeps per-example rows: one item, a warning while any active
        example carries a flag of its latest run ("not-run" before the first run)."""
        from curation.export.readiness import ReadinessItem, number

        if self.results_step is None:
            return []
        label = (self.title or self.name).lower()
        flagged = number(stats, "flagged_active")
        if flagged is None:
            return [ReadinessItem(label, None, "not-run", f"the {label} step was not run")]
        n = int(flagged)
        return [
            ReadinessItem(
                label,
                n,
                "warn" if n else "ok",
                f"{n} active example{'s' if n != 1 else ''} flagged by {label}"
                if n
                else f"no active example flagged by {label}",
            )
        ]

    def __repr__(self) -> str:
        return f"<step {self.name!r}>"
