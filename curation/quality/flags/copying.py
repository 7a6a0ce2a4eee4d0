"""Answers that copy the prompt: the answer is the prompt again, instruction included.

An edit task answered with its (already correct) input is not a copy: the instruction is not repeated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Flag, Location
from curation.quality.settings import CheckSettings, require_fraction, require_int
from curation.quality.view import AnswerTurn, ExampleView, words_of

__all__ = ["CopiedPrompt", "CopiedPromptSettings", "copy_overlap"]


@dataclass(frozen=True, slots=True)
class CopiedPromptSettings(CheckSettings):
    """When an answer is a copy of its prompt.

    Attributes
    ----------
    min_overlap:
        Share of the answer's word 3-grams found in the prompt, and of the prompt's (and of
        its first paragraph's, the instruction's) 3-grams found in the answer. 0.9 each: a
        long copy with a word or two changed is still one, while an answer that restates a
        short question before answering it ("The result of 4 raised to the power of 3 is
        64.", 0.8 both ways in the Alpaca data) is not.
    ngram:
        Word n-gram length compared: 3, long enough that shared function words do not count.
    """

    min_overlap: float = 0.9
    ngram: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_fraction(name, "min_overlap", self.min_overlap)
        require_int(name, "ngram", self.ngram, low=1, high=10)


def _words(text: str) -> list[str]:
    return words_of(text.casefold())


def _grams_of(words: list[str], n: int) -> set[tuple[str, ...]]:
    if len(words) < n:
        return {tuple(words)} if words else set()
    return set(zip(*(words[i:] for i in range(n)), strict=False))


def copy_overlap(prompt: str, answer: str, n: int = 3) -> tuple[float, float, float]:
    """``(answer_from_prompt, prompt_in_answer, instruction_in_answer)``: shares of word
    n-grams (case-folded words, punctuation left out) in common, each in [0, 1]. The
    instruction is the prompt's first paragraph (Alpaca imports put the input after it)."""
    a, p = _grams_of(_words(answer), n), _grams_of(_words(prompt), n)
    if not a or not p:
        return 0.0, 0.0, 0.0
    inter = len(a & p)
    first = re.split(r"\n\s*\n", prompt.strip(), maxsplit=1)[0]
    q = _grams_of(_words(first), n)
    return inter / len(a), inter / len(p), (len(a & q) / len(q)) if q else 0.0


class CopiedPrompt(ExampleCheck):
    """Flags answers that repeat their prompt (score: one minus the weakest overlap)."""

    code = "copied_prompt"
    title = "Answer copies the prompt"
    description = (
        "The answer repeats the prompt, instruction included, instead of answering it: the "
        "model would learn to echo."
    )
    Settings = CopiedPromptSettings
    settings: CopiedPromptSettings

    def check(self, example: ExampleView) -> CheckResult:
        for turn in example.text_turns:
            flag = self._turn(turn)
            if flag is not None:
                return flag
        return KEEP

    def _turn(self, turn: AnswerTurn) -> Flag | None:
        if not turn.prompt.strip() or not turn.stripped:
            return None
        s = self.settings
        # Overlaps of 0.9 both ways need sizes within 1 / 0.9 of each other; counts of
        # space-separated tokens stand in for n-gram set sizes with a wide margin, so most
        # examples stop here.
        a_words, p_words = len(turn.text.split()), len(turn.prompt.split())
        if not 0.5 * p_words <= a_words <= 2 * p_words:
            return None
        if _words(turn.prompt) == _words(turn.text):
            return self.flag(
                0.0,
                "The answer is the prompt, word for word.",
                kind="identical",
                location=Location(turn.index),
            )
        from_prompt, prompt_in, instruction_in = copy_overlap(turn.prompt, turn.text, s.ngram)
        weakest = min(from_prompt, prompt_in, instruction_in)
        if weakest < s.min_overlap:
            return None
        return self.flag(
            1.0 - weakest,
            f"{from_prompt:.0%} of the answer comes from the prompt and it repeats "
            f"{prompt_in:.0%} of the prompt.",
            kind="echo",
            location=Location(turn.index),
            data={
                "answer_from_prompt": round(from_prompt, 3),
                "prompt_in_answer": round(prompt_in, 3),
            },
        )
