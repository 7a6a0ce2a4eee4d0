"""Empty answers: no assistant turn, or one with nothing but whitespace, punctuation or a null token.

Trained on, such an example teaches the model to answer with nothing; it is never what was meant.
"""

from __future__ import annotations

import re
import unicodedata

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Location
from curation.quality.view import ExampleView

__all__ = ["EmptyAnswer", "EmptyPrompt", "is_blank"]

# Left behind by spreadsheets and dataframes when a cell was missing: "nan" is pandas' NaN
# written as text. "None" is left out on purpose: it is a real answer to many questions.
NULL_TOKENS = frozenset({"nan", "null", "n/a", "tbd", "todo", "<empty>", "[empty]", "undefined"})

# Characters that show nothing: Unicode format characters (zero-width space and joiners, BOM,
# soft hyphen) besides whitespace.
_INVISIBLE = re.compile(r"[\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]+")


_ALNUM = re.compile(r"[^\W_]")


def is_blank(text: str) -> bool:
    """True when `text` shows no letter, digit or symbol: only whitespace, invisible
    characters and punctuation ("...", "-", "?")."""
    if _ALNUM.search(text) is not None:
        return False
    visible = _INVISIBLE.sub("", text)
    return all(unicodedata.category(ch)[0] in "PZC" for ch in visible)


class EmptyAnswer(ExampleCheck):
    """Flags examples whose answer is missing or says nothing.

    An assistant turn that calls a tool is an answer even without text. Each empty turn is
    reported (the first one locates the flag); an example with no assistant turn at all is
    flagged too (kind ``no_answer``).
    """

    code = "empty_answer"
    title = "Empty answer"
    description = (
        "The answer is missing, blank, only punctuation or a null token such as 'nan': "
        "the model would learn to say nothing."
    )

    def check(self, example: ExampleView) -> CheckResult:
        if not example.turns:
            return self.flag(0.0, "The example has no assistant turn.", kind="no_answer")
        empty: list[int] = []
        kind = "blank"
        for turn in example.turns:
            if turn.tool_calls:
                continue
            if is_blank(turn.text):
                empty.append(turn.index)
            elif turn.stripped.lower() in NULL_TOKENS:
                empty.append(turn.index)
                kind = "null_token"
        if not empty:
            return KEEP
        what = (
            f"the null token {example.messages[empty[0]].content.strip()!r}"
            if kind == "null_token"
            else "no text"
        )
        where = "The answer" if len(example.turns) == 1 else f"Message {empty[0] + 1} (assistant)"
        more = f" ({len(empty)} empty assistant turns)" if len(empty) > 1 else ""
        return self.flag(
            0.0,
            f"{where} has {what}{more}.",
            kind=kind,
            location=Location(empty[0]),
            data={"turns": empty},
        )


class EmptyPrompt(ExampleCheck):
    """Flags examples whose user turns are missing or blank: the answer answers nothing."""

    code = "empty_prompt"
    title = "Empty prompt"
    description = "No user turn, or a blank one: the answer responds to nothing."

    def check(self, example: ExampleView) -> CheckResult:
        users = [i for i, m in enumerate(example.messages) if m.role == "user"]
        if not users:
            return self.flag(0.0, "The example has no user turn.", kind="no_prompt")
        blank = [i for i in users if is_blank(example.messages[i].content)]
        if not blank:
            return KEEP
        return self.flag(
            0.0,
            f"Message {blank[0] + 1} (user) is blank.",
            kind="blank",
            location=Location(blank[0]),
            data={"turns": blank},
        )
