"""The same prompt with conflicting answers: one prompt labelled "positive" here and "negative" there.

A dataset-level check: examples are grouped by their exact-normalised prompt (system prompt and
tools included), and a group whose short answers disagree is a contradiction the model must learn.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from curation.dedup.normalise import normalise_all
from curation.quality.base import DatasetCheck, Flag, Location
from curation.quality.settings import CheckSettings, require_int
from curation.quality.view import ExampleView
from curation.text import segment_spaceless

__all__ = ["ConflictingAnswers", "ConflictingAnswersSettings"]


@dataclass(frozen=True, slots=True)
class ConflictingAnswersSettings(CheckSettings):
    """Which answers can conflict.

    Attributes
    ----------
    max_answer_words:
        Only answers of at most this many words are compared: 5 covers labels, classes,
        yes/no, numbers and names, where two different answers to one prompt contradict each
        other. Longer answers are often paraphrases ("Researchers from LMSYS created me." /
        "My creators are researchers from LMSYS.", 9 words each in FastChat's data) or
        variety (two ways to write a poem), which the near-duplicate step shows instead.
        Text in scripts written without spaces counts one word per character pair.
    max_listed:
        How many other members' ids each flag lists in its data.
    """

    max_answer_words: int = 5
    max_listed: int = 20

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_int(name, "max_answer_words", self.max_answer_words, low=1)
        require_int(name, "max_listed", self.max_listed, low=0)


@dataclass(frozen=True, slots=True)
class _Member:
    example_id: str
    answer: str  # normalised; "" marks a long answer (the group is not judged on it)
    shown: str  # the answer as written, cut to 80 characters
    turn: int | None


class ConflictingAnswers(DatasetCheck):
    """Flags examples whose prompt has other examples with a different short answer.

    In a group with a strict majority answer, the members that disagree with it are flagged
    and the majority answer is the suggestion; in a tie every member is flagged. The score is
    the share of the group that gives the member's answer.
    """

    code = "conflicting_answers"
    title = "Conflicting answers"
    description = (
        "The same prompt appears with different short answers (labels, yes/no, numbers): "
        "the model cannot learn both."
    )
    Settings = ConflictingAnswersSettings
    settings: ConflictingAnswersSettings

    def __init__(self, settings: CheckSettings | None = None) -> None:
        super().__init__(settings)
        self._groups: dict[bytes, list[_Member]] = defaultdict(list)

    def observe(self, example: ExampleView) -> None:
        self.observe_batch([example])

    def observe_batch(self, examples: Sequence[ExampleView]) -> None:
        # One call normalises the whole batch: per text, numpy's set-up would dominate.
        chosen = [e for e in examples if e.prompt.strip()]
        texts = normalise_all([t for e in chosen for t in (e.system, e.prompt, e.answer)])
        for k, example in enumerate(chosen):
            system, prompt, answer = texts[3 * k : 3 * k + 3]
            key = "\x1f".join((system, prompt, example.tools or ""))
            digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            shown = example.answer
            calls = [t.tool_calls for t in example.turns if t.tool_calls]
            normalised = answer
            if calls:
                normalised = f"{answer}\x1f{'|'.join(calls)}"
                shown = f"{shown} {' '.join(calls)}".strip()
            short = len(segment_spaceless(answer).split()) <= self.settings.max_answer_words
            last = example.turns[-1].index if example.turns else None
            self._groups[digest].append(
                _Member(example.id, normalised if short and normalised else "", shown[:80], last)
            )

    def finish(self) -> Iterator[tuple[str, Flag]]:
        s = self.settings
        for members in self._groups.values():
            if len(members) < 2:
                continue
            short = [m for m in members if m.answer]
            counts = Counter(m.answer for m in short)
            if len(counts) < 2:
                continue
            top, top_n = counts.most_common(1)[0]
            majority = top if top_n * 2 > len(short) else None
            shown: dict[str, str] = {}
            for m in short:
                shown.setdefault(m.answer, m.shown)  # as the first member wrote it
            answers = {shown[a]: n for a, n in counts.most_common()}
            for m in short:
                if majority is not None and m.answer == majority:
                    continue
                others = [o.example_id for o in short if o.example_id != m.example_id]
                suggestion = shown[majority] if majority is not None else None
                reason = (
                    f"{len(short) - counts[m.answer]} other example(s) with the same prompt "
                    f"answer differently"
                    + (f"; most answer {suggestion!r}" if suggestion is not None else "")
                    + "."
                )
                yield (
                    m.example_id,
                    self.flag(
                        counts[m.answer] / len(short),
                        reason,
                        kind="majority_differs" if majority is not None else "tie",
                        location=Location(m.turn) if m.turn is not None else None,
                        suggestion=suggestion,
                        data={
                            "group_size": len(short),
                            "answers": dict(list(answers.items())[:10]),
                            "others": others[: s.max_listed],
                        },
                    ),
                )
