"""The trainer preset contract: record shape, file layout, validation rules, extra files.

A new preset is one subclass in its own module plus one line in `presets/__init__.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from curation.export.checks import TEMPLATE_TOKENS, check_template_tokens
from curation.export.conversation import Layout
from curation.export.issues import Issue
from curation.export.tokens import TokenCounter, record_tokens
from curation.records import Example

SPLITS = ("train", "validation")
TASKS = ("sft", "preference", "kto")


@dataclass(frozen=True, slots=True)
class Built:
    """A record plus warnings about what the conversion could not keep."""

    record: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Why a preset leaves an example out by design: not a defect, a kind of data it does not train.

    Attributes
    ----------
    code:
        A stable reason (``tie``, ``no_candidates``, ``undesirable``, ``no_label``...).
    message:
        The reason in words, for the export summary.
    """

    code: str
    message: str


# Reasons an example is left out by design, in words for summaries (code -> phrase).
LEFT_OUT_REASONS: dict[str, str] = {
    "tie": "ties (the candidate answers share one rank, so none is chosen)",
    "no_chosen": "candidates without a unique best-ranked answer",
    "no_rejected": "a chosen answer without a worse-ranked one to pair it with",
    "no_candidates": "conversations without candidate answers (not preference pairs)",
    "needs_answer": "prompts that still need an answer",
    "undesirable": "answers marked undesirable (not trained on)",
    "no_label": "conversations labelled neither desirable nor undesirable",
}


def sft_prepare(example: Example) -> list[Example] | LeftOut:
    """What a supervised (SFT) preset writes for one example: itself, or why it is left out.

    Preference examples go out as their prompt plus the chosen answer (`Example.sft_messages`,
    which every SFT preset builds from); a tie or a set of candidates without a unique best one
    has no answer to train on. Feedback (KTO) examples marked undesirable are left out: SFT
    would teach exactly the answer someone marked bad. Desirable and unlabelled conversations
    go out as they are.
    """
    kind = example.kind
    if kind == "preference" and example.chosen is None:
        if example.is_tie:
            return LeftOut("tie", "its candidate answers tie: no chosen answer to train on")
        return LeftOut("no_chosen", "no candidate answer is ranked strictly best")
    if kind == "feedback" and example.desirable is False:
        return LeftOut("undesirable", "its answer is marked undesirable: not trained on")
    return [example]


@dataclass(slots=True)
class ReadRecord:
    """One record read back from a file: the value, or the reason it could not be read."""

    line: int
    value: Any = None
    error: Issue | None = None


def string_leaves(value: Any) -> list[str]:
    """Every string inside a JSON value (used for template-token warnings)."""
    out: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


class Preset:
    """Base class of every trainer preset.

    Subclasses set the class attributes and implement `build` and `check_record`.

    Attributes
    ----------
    name:
        Registry key used by the UI and the CLI.
    task:
        What the files train: ``sft`` (supervised), ``preference`` (chosen/rejected pairs,
        DPO) or ``kto`` (answers labelled desirable or undesirable).
    description:
        One line for the UI.
    file_ext:
        ``jsonl`` or ``parquet``.
    data_dir:
        Folder of the split files inside the export (``""`` for the root).
    default_max_tokens:
        The token limit warnings compare against unless a caller gives one.
    messages_key:
        The record key holding a message list (adds chat overhead to token counts), or None.
    """

    name: ClassVar[str] = ""
    task: ClassVar[str] = "sft"
    description: ClassVar[str] = ""
    file_ext: ClassVar[str] = "jsonl"
    data_dir: ClassVar[str] = ""
    default_max_tokens: ClassVar[int | None] = None
    messages_key: ClassVar[str | None] = "messages"
    trainer_hint: ClassVar[str] = ""
    min_records: ClassVar[int] = 1
    loose_schema_prefixes: ClassVar[tuple[str, ...]] = ()

    # ---- naming -------------------------------------------------------------------------
    def file_name(self, split: str) -> str:
        """Relative path of a split's file, e.g. ``train.jsonl`` or ``data/train.parquet``."""
        name = f"{split}.{self.file_ext}"
        return f"{self.data_dir}/{name}" if self.data_dir else name

    # ---- which examples, as which rows ---------------------------------------------------
    def prepare(self, example: Example) -> list[Example] | LeftOut:
        """The examples this preset writes for one canonical example, or why it leaves it out.

        Usually ``[example]``; a KTO preset turns a chosen/rejected pair into two labelled rows.
        A `LeftOut` is a kind of data the preset does not train (a tie in a pair preset, an
        undesirable answer in an SFT one): counted with its reason, never an error.
        Preparing a prepared example gives it back unchanged.
        """
        return sft_prepare(example)

    # ---- record shape -------------------------------------------------------------------
    def layout(self, examples: Iterable[Example]) -> Layout:
        """The optional columns needed by these examples (train and eval together)."""
        return Layout.of(examples)

    def build(self, example: Example, layout: Layout) -> Built:
        """Convert one example; raise `Unrepresentable` when the shape cannot carry it."""
        raise NotImplementedError

    def record(self, example: Example, layout: Layout | None = None) -> dict[str, Any]:
        """The record one example becomes in this preset's files.

        Parameters
        ----------
        example:
            The canonical example.
        layout:
            The export's layout (from `layout` over train + eval); defaults to this example's
            own, which may leave out columns other rows of the same export have.

        Raises
        ------
        curation.export.conversation.Unrepresentable
            When this preset cannot express the example.
        """
        return self.build(example, layout or self.layout([example])).record

    def count_tokens(self, record: dict[str, Any], counter: TokenCounter) -> int:
        """Tokens of one record as a trainer counts them against its length limit."""
        return record_tokens(record, counter, messages_key=self.messages_key)

    # ---- validation ---------------------------------------------------------------------
    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        """Preset rules for one record that is already a JSON object."""
        raise NotImplementedError

    def validate_record(self, record: Any, index: int) -> list[Issue]:
        """Check one record read back from a file.

        Parameters
        ----------
        record:
            The parsed JSON value.
        index:
            0-based position of the record in its file (issues carry ``line = index + 1``).

        Returns
        -------
        list[Issue]
            Errors and warnings together; the code decides the level (see `WARNING_CODES`).
        """
        line = index + 1
        if not isinstance(record, dict):
            return [
                Issue(line, None, "data_type", f"line is a {type(record).__name__}, not an object")
            ]
        issues = self.check_record(record, line)
        try:  # one C-speed pass rules out almost every record before walking its strings
            text = json.dumps(record, ensure_ascii=False)
        except (TypeError, ValueError):
            text = None
        if text is None or any(token in text for token in TEMPLATE_TOKENS):
            issues.extend(check_template_tokens(string_leaves(record), line))
        return issues

    # ---- files --------------------------------------------------------------------------
    def extra_files(
        self,
        train_name: str,
        eval_name: str | None,
        dataset_name: str,
        *,
        layout: Layout | None = None,
    ) -> dict[str, str]:
        """Files beside the data (configs, registries): name -> text. None by default.

        Parameters
        ----------
        train_name, eval_name:
            Relative paths of the written split files (``eval_name`` None when eval is empty).
        dataset_name:
            A short identifier for registries (``dataset_info.json`` keys).
        layout:
            The export's layout, for presets whose config depends on optional columns.
        """
        return {}

    def write_records(self, records: Sequence[dict[str, Any]], path: Path, layout: Layout) -> None:
        """Write records as JSON Lines: UTF-8 without BOM, ``\\n`` endings, no blank lines."""
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for rec in records:
                fh.write(dump_line(rec))
                fh.write("\n")

    def read_records(self, path: Path) -> Iterator[ReadRecord]:
        """Read a written file back, one `ReadRecord` per line (parse errors included)."""
        return read_jsonl(path)


WARNING_CODES = frozenset(
    {
        "blank_content",
        "template_token",
        "over_token_limit",
        "no_trained_assistant",
        "lossy_conversion",
        "no_trailing_newline",
        "unrecognized_top_level_key",
        "skipped_unrepresentable",
        "left_out",
        "completion_boundary",
        "too_few_records",
        "schema_varies",
    }
)


def dump_line(record: dict[str, Any]) -> str:
    """One JSON line: no ASCII escaping, NaN refused, U+2028/9 escaped for line-splitting readers."""
    text = json.dumps(record, ensure_ascii=False, allow_nan=False)
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not valid JSON")


def read_jsonl(path: Path) -> Iterator[ReadRecord]:
    """Yield the records of a JSONL file strictly: BOM, blank lines, bad UTF-8, NaN are issues."""
    data = path.read_bytes()
    fname = path.name
    if data.startswith(b"\xef\xbb\xbf"):
        yield ReadRecord(0, error=Issue(1, None, "bom", "the file starts with a UTF-8 BOM", fname))
        data = data[3:]
    if data and not data.endswith(b"\n"):
        yield ReadRecord(
            0,
            error=Issue(
                None, None, "no_trailing_newline", "the file does not end with a newline", fname
            ),
        )
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            yield ReadRecord(n, error=Issue(n, None, "blank_line", "blank line", fname))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield ReadRecord(n, error=Issue(n, None, "encoding", f"not UTF-8: {exc}", fname))
            continue
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            yield ReadRecord(n, error=Issue(n, None, "invalid_json", f"not JSON: {exc}", fname))
            continue
        yield ReadRecord(n, value=value)
