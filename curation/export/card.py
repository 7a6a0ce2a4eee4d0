"""The dataset card: README.md with Hub YAML front matter, sizes, curation steps and use.

Steps are plug-ins (`curation.steps`): each registered step renders its rows of the Curation
table from its dict of numbers and optional notes; absent is "not run".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from curation.errors import ExportError
from curation.export.leakage import LeakageReport
from curation.export.pairs import label_balance, pair_stats
from curation.export.presets import get_preset
from curation.export.presets.base import LEFT_OUT_REASONS
from curation.export.readiness import ReadinessItem
from curation.records import Example


def __getattr__(name: str) -> Any:
    # ``CURATION_STEPS``: the registered steps' names in pipeline order, read when asked for so
    # a step registered later is included (kept for code that imported the old tuple)
    if name == "CURATION_STEPS":
        from curation.steps import steps

        return steps.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(slots=True)
class CardInfo:
    """What the user tells the card about the dataset (the rest is measured).

    Attributes
    ----------
    pretty_name, description:
        Title and a short paragraph.
    license:
        A Hub license id (``apache-2.0``, ``cc-by-4.0``...) or ``other``.
    language:
        ISO 639-1 codes; None (the default) lists the languages detected in the exported
        examples (`card_languages`).
    task_categories, tags:
        Hub metadata for search.
    intended_use, out_of_scope_use, limitations:
        Free text for the card's "Uses" section.
    label_field:
        A metadata key whose distribution the card shows (e.g. ``category``).
    dataset_name:
        Short identifier for registries (``dataset_info.json``); from ``pretty_name`` if None.
    """

    pretty_name: str = "Curated instruction-tuning dataset"
    description: str = ""
    license: str = "other"
    language: list[str] | None = None
    task_categories: list[str] = field(default_factory=lambda: ["text-generation"])
    tags: list[str] = field(default_factory=lambda: ["instruction-tuning", "sft"])
    intended_use: str = "Supervised fine-tuning of language models."
    out_of_scope_use: str = ""
    limitations: str = ""
    label_field: str | None = None
    dataset_name: str | None = None

    def name(self) -> str:
        """The registry-safe dataset name."""
        base = self.dataset_name or self.pretty_name
        out = "".join(ch if ch.isalnum() else "_" for ch in base.lower()).strip("_")
        return "_".join(p for p in out.split("_") if p) or "curated"


def size_category(n: int) -> str:
    """The Hub ``size_categories`` bucket for ``n`` examples."""
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return label
    return "n>10M"


def card_languages(examples: Sequence[Example], *, sample: int = 500) -> list[str]:
    """Languages of at least 5 % of the examples (ISO 639-1, most first), for ``language:``.

    Detected offline (`curation.text.detect_language`) on the whole text of at most `sample`
    examples spread evenly over the list, so the same examples give the same list.
    """
    from curation.text import language_profile

    step = max(1.0, len(examples) / sample)
    chosen = [examples[int(k * step)] for k in range(min(sample, len(examples)))]
    return language_profile([ex.text("all") for ex in chosen]).languages(min_share=0.05)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def step_row(name: str, stat: Any) -> str:
    """One row of the Curation table: a step's numbers and notes, or "not run" when None.

    Raises
    ------
    ExportError
        When the stats are not a dict.
    """
    if stat is None:
        return f"| {name} | not run | |"
    if not isinstance(stat, Mapping):
        raise ExportError(
            f"curation_stats[{name!r}] must be a dict of numbers (plus optional 'notes'), "
            f"not {type(stat).__name__}"
        )
    numbers = ", ".join(f"{k}: {_fmt(v)}" for k, v in stat.items() if k != "notes") or "-"
    notes = stat.get("notes", "")
    if isinstance(notes, list | tuple):
        notes = "; ".join(str(n) for n in notes)
    return f"| {name} | {_cell(numbers)} | {_cell(str(notes))} |"


def render_steps(
    curation_stats: Mapping[str, Any], extra_steps: Mapping[str, Any] | None = None
) -> list[str]:
    """Markdown for the curation steps: registered steps in pipeline order (each renders its
    own rows, `Step.card_section`), then any others by name.

    Raises
    ------
    ExportError
        When a step's stats are not a dict.
    """
    from curation.steps import steps as registry

    steps = dict(curation_stats)
    steps.update(extra_steps or {})
    lines = ["| Step | Numbers | Notes |", "|---|---|---|"]
    for step in registry:
        lines.extend(step.card_section(steps.get(step.name)))
    for name in sorted(s for s in steps if s not in registry):
        lines.append(step_row(name, steps[name]))
    return lines


def build_card(
    train: Sequence[Example],
    eval: Sequence[Example],
    *,
    preset: str,
    data_files: Mapping[str, str],
    curation_stats: Mapping[str, Any],
    card_info: CardInfo | None = None,
    extra_steps: Mapping[str, Any] | None = None,
    leakage: LeakageReport | None = None,
    readiness: Sequence[ReadinessItem] | None = None,
    created_at: str | None = None,
    left_out: Mapping[str, int] | None = None,
) -> str:
    """Render README.md for the export.

    Parameters
    ----------
    train, eval:
        The splits (sizes and label distribution come from them).
    preset:
        The preset name, shown with the format description.
    data_files:
        Split name (``train``, ``validation``) -> path relative to the card, exactly as written;
        it becomes the ``configs`` front matter.
    curation_stats:
        Step name -> dict of numbers and optional ``notes``, as `curation_stats` gathers it:
        the registered steps (`curation.steps.steps`) in pipeline order, any other name listed
        after them. Absent steps read "not run".
    card_info:
        User-given metadata; defaults when None.
    extra_steps:
        Steps measured by the export itself (``split``, ``validation``), same shape.
    leakage, readiness:
        Reports to summarise.
    created_at:
        Shown only when given, so the same input renders the same bytes.
    left_out:
        Reason -> examples the preset left out by design (ties, undesirable answers...),
        listed in a "Left out" section.

    Returns
    -------
    str
        The card text, ending with a newline.
    """
    info = card_info or CardInfo()
    n = len(train) + len(eval)
    front: dict[str, Any] = {
        "license": info.license,
        "language": (
            list(info.language) if info.language is not None else card_languages([*train, *eval])
        ),
        "pretty_name": info.pretty_name,
        "task_categories": list(info.task_categories),
        "tags": list(info.tags),
        "size_categories": [size_category(n)],
        "configs": [
            {
                "config_name": "default",
                "default": True,
                "data_files": [
                    {"split": split, "path": path} for split, path in data_files.items()
                ],
            }
        ],
    }
    out = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip("\n"),
        "---",
        "",
    ]
    out += [f"# {info.pretty_name}", ""]
    if info.description:
        out += [info.description, ""]
    task = _task(preset)
    out += [
        _what_it_is(task, preset, [*train, *eval]),
        "",
        "## Splits",
        "",
        "| Split | Examples | File |",
        "|---|---|---|",
    ]
    sizes = {"train": len(train), "validation": len(eval)}
    for split, path in data_files.items():
        out.append(f"| {split} | {sizes.get(split, 0)} | `{path}` |")
    out.append("")
    if info.label_field:
        out += [
            f"## Distribution of `{info.label_field}`",
            "",
            "| Value | Train | Validation |",
            "|---|---|---|",
        ]
        counts = [Counter(_label(ex, info.label_field) for ex in split) for split in (train, eval)]
        for value in sorted(set(counts[0]) | set(counts[1])):
            out.append(f"| {_cell(value)} | {counts[0][value]} | {counts[1][value]} |")
        out.append("")
    out += _data_sections(task, train, eval, left_out or {})
    out += ["## Curation", "", *render_steps(curation_stats, extra_steps), ""]
    if leakage is not None:
        out += [
            "## Train/eval leakage",
            "",
            f"Method: {leakage.method}. Highest similarity {leakage.max_similarity:.3f}; "
            f"{len(leakage.pairs)} pairs at or above {leakage.threshold}.",
            "",
        ]
    if readiness:
        out += ["## Readiness", "", "| Check | Value | Status | Note |", "|---|---|---|---|"]
        for item in readiness:
            out.append(
                f"| {item.name} | {_fmt(item.value) if item.value is not None else '-'} | "
                f"{item.status} | {_cell(item.message)} |"
            )
        out.append("")
    out += ["## Uses", "", f"**Intended use.** {info.intended_use}", ""]
    if info.out_of_scope_use:
        out += [f"**Out of scope.** {info.out_of_scope_use}", ""]
    if info.limitations:
        out += [f"**Limitations.** {info.limitations}", ""]
    out += [
        "## License",
        "",
        f"`{info.license}`. Check the licenses of the sources listed under "
        "Curation before redistributing.",
        "",
    ]
    if created_at:
        out += [f"Exported {created_at}.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _task(preset: str) -> str:
    try:
        return get_preset(preset).task
    except ExportError:  # a card for files written by some other tool
        return "sft"


def _what_it_is(task: str, preset: str, examples: Sequence[Example]) -> str:
    if task == "preference":
        return (
            f"Preference pairs (a prompt with a chosen and a rejected answer) exported in the "
            f"`{preset}` format by the curation app."
        )
    if task == "kto":
        return (
            f"Answers labelled desirable or undesirable (KTO) exported in the `{preset}` format "
            "by the curation app; each chosen/rejected pair gives one row of each label."
        )
    pairs = sum(1 for ex in examples if ex.candidates)
    note = (
        f" {pairs} of the examples are preference pairs written as their prompt plus the "
        "chosen answer (the rejected answers are not trained on)."
        if pairs
        else ""
    )
    return f"Instruction-tuning data exported in the `{preset}` format by the curation app.{note}"


def _data_sections(
    task: str, train: Sequence[Example], eval: Sequence[Example], left_out: Mapping[str, int]
) -> list[str]:
    """The card's preference / label sections and the examples left out by reason."""
    out: list[str] = []
    if task == "preference":
        stats = [pair_stats(split) for split in (train, eval)]
        rows = [
            ("pairs", "n_pairs", "{}"),
            ("mean chosen characters", "mean_chosen_chars", "{:.0f}"),
            ("mean rejected characters", "mean_rejected_chars", "{:.0f}"),
            ("chosen / rejected length ratio", "length_ratio", "{:.2f}"),
            ("share of pairs where chosen is longer", "share_chosen_longer", "{:.1%}"),
            ("near-identical chosen and rejected", "near_identical_share", "{:.1%}"),
        ]
        out += ["## Preference pairs", "", "| | Train | Validation |", "|---|---|---|"]
        for label, attr, spec in rows:
            values = [getattr(st, attr) for st in stats]
            cells = [spec.format(v) if v is not None else "-" for v in values]
            out.append(f"| {label} | {cells[0]} | {cells[1]} |")
        out += [
            "",
            f"Near-identical: word Jaccard >= {stats[0].threshold} between the two answers "
            "(the near-dedup rule). DPO is known to learn length when chosen answers are "
            "mostly the longer ones.",
            "",
        ]
    elif task == "kto":
        balances = [label_balance(split) for split in (train, eval)]
        out += [
            "## Labels",
            "",
            "| Label | Train | Validation |",
            "|---|---|---|",
            f"| desirable | {balances[0].desirable} | {balances[1].desirable} |",
            f"| undesirable | {balances[0].undesirable} | {balances[1].undesirable} |",
            "",
        ]
    if left_out:
        out += ["## Left out", "", "| Reason | Examples |", "|---|---|"]
        for code, n in left_out.items():
            out.append(f"| {_cell(LEFT_OUT_REASONS.get(code, code))} | {n} |")
        out.append("")
    return out


def _label(example: Example, field_name: str) -> str:
    value = example.metadata.get(field_name)
    if value is None:
        return "(missing)"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
