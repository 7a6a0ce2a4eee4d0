"""Leftover template placeholders: `{{name}}`, `{input}`, `<insert date>`, `[NAME]`, `[Your Name]`.

Code is not prose: braces inside code blocks, inline code, LaTeX and `${...}` are never placeholders.
"""

from __future__ import annotations

import re

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Location
from curation.quality.lexicon import word_set
from curation.quality.view import ExampleView, prose_of

__all__ = ["Placeholder", "find_placeholders"]

# Template engines: Jinja / Mustache / Handlebars, and Python's str.format / LangChain.
_DOUBLE = re.compile(r"\{\{\s*[A-Za-z_][\w.\- ]{0,40}?\s*\}\}")
# Not after a word character, "$", "\\", "{", "}", "%" or "#": "x_{i}", "${name}",
# "\\text{x}", "{a}{b}", "%{x}" and "#{x}" are LaTeX or code.
_SINGLE = re.compile(r"(?<![\w$\\{}%#^])\{([A-Za-z_][A-Za-z0-9_]{0,40})\}(?![}\w])")
# Fill-in markers in angle brackets: <insert date>, <your name>, <Name of company>.
_ANGLE = re.compile(
    r"<\s*(?:insert|your|enter|add|put|fill(?: in)?|replace(?: with)?|name of|placeholder|"
    r"type|write)\b[^<>\n]{0,50}>",
    re.IGNORECASE,
)
# Square-bracket slots: [NAME], [FIRST_NAME], [Your Name], [insert date], [Customer's Name],
# [Charity Website]. Never a Markdown link ("[text](url)"), a checkbox ("[x]"), a citation
# ("[1]", "[citation needed]") or a model's special token ("[INST]", "[CLS]").
_SQUARE = re.compile(r"\[([^\[\]\n]{2,60})\](?!\()")
_SLOT_FIRST = word_set(
    "your insert enter add put fill type replace name first last full recipient sender company date"
)
_SLOT_LAST = word_set(
    "name names date time address number email e-mail phone website link url title company "
    "organization organisation location city country amount price platform here details "
    "information info handle signature position department product"
)
_SLOT_ALONE = _SLOT_LAST | {"year", "month", "day", "recipient", "sender"}
_SPECIAL_TOKENS = frozenset(
    {"INST", "/INST", "CLS", "SEP", "MASK", "PAD", "UNK", "BOS", "EOS", "SYS", "/SYS", "TOOL"}
)
_LATEX = re.compile(r"\\[A-Za-z]+\s*$")


def _is_slot(inner: str) -> bool:
    """Whether the text inside square brackets reads as a slot to fill in."""
    inner = inner.strip()
    if inner.upper() in _SPECIAL_TOKENS or inner.isdigit():
        return False
    letters = inner.replace("_", "").replace(" ", "").replace("-", "")
    if letters.isalnum() and letters.isupper():
        # [NAME], [FIRST_NAME]: three letters at least, and no roman numeral ("[III]").
        return len(letters) >= 3 and re.fullmatch(r"[IVXLCDM]+", letters) is None
    words = re.sub(r"['’]s\b", "", inner).lower().split()
    if not words or len(words) > 6:
        return False
    if len(words) == 1 and words[0] in _SLOT_ALONE:
        return True  # [year], [date], [name]
    return words[0] in _SLOT_FIRST or (inner[0].isupper() and words[-1] in _SLOT_LAST)


def find_placeholders(text: str, *, prompt_style_only: bool = False) -> list[re.Match[str]]:
    """Placeholder matches in the prose of `text` (code blanked first, offsets kept), in order.

    Parameters
    ----------
    text:
        Any turn's text.
    prompt_style_only:
        Only template-engine placeholders (``{{x}}``, ``{x}``): what a prompt can hold by
        mistake, while ``[NAME]`` in a prompt is often a deliberate slot the answer fills.
    """
    if "{" not in text and "[" not in text and "<" not in text:
        return []
    prose = prose_of(text)
    found = list(_DOUBLE.finditer(prose))
    found += [
        m
        for m in _SINGLE.finditer(prose)
        if not _LATEX.search(prose[max(0, m.start() - 30) : m.start()])
    ]
    if not prompt_style_only:
        found += list(_ANGLE.finditer(prose))
        found += [m for m in _SQUARE.finditer(prose) if _is_slot(m.group(1))]
    return sorted(found, key=lambda m: m.start())


class Placeholder(ExampleCheck):
    """Flags examples with template placeholders left unfilled.

    In answers every style counts; in prompts only template-engine ones (``{{x}}``, ``{x}``).
    A placeholder the answer repeats from its prompt is not flagged in the answer (the user
    asked about that very template).
    """

    code = "placeholder"
    title = "Template placeholder"
    description = (
        "A template slot was never filled ('{{name}}', '{input}', '<insert date>', "
        "'[Your Name]'): the model would learn to write placeholders."
    )

    def check(self, example: ExampleView) -> CheckResult:
        prompt_slots: set[str] = set()
        for i, m in enumerate(example.messages):
            if m.role not in ("user", "system"):
                continue
            hits = find_placeholders(m.content or "", prompt_style_only=True)
            if hits:
                return self._flagged(i, m.content, hits, "prompt")
            if m.role == "user":
                prompt_slots.update(h.group(0) for h in find_placeholders(m.content or ""))
        for turn in example.text_turns:
            hits = [h for h in find_placeholders(turn.text) if h.group(0) not in prompt_slots]
            if hits:
                return self._flagged(turn.index, turn.text, hits, "answer")
        return KEEP

    def _flagged(self, index: int, text: str, hits: list[re.Match[str]], where: str) -> CheckResult:
        first = hits[0]
        token = first.group(0)
        tokens = list(dict.fromkeys(h.group(0) for h in hits))
        more = f" (and {len(tokens) - 1} more)" if len(tokens) > 1 else ""
        return self.flag(
            0.1 if token.startswith("{") else 0.2,
            f"The {where} holds the unfilled placeholder {token!r}{more}.",
            kind=where,
            location=Location.at(index, text, first.start(), first.end()),
            data={"placeholders": tokens[:10]},
        )
