"""Truncated answers: cut mid-sentence, an unclosed code fence or bracket, a list that stops short,
or a last word that cannot end a sentence ("and", "the", a comma).

Trained on, a cut answer teaches the model to stop mid-thought; it is usually a generation limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Flag, Location
from curation.quality.lexicon import NUMBER, numbered_items, parse_count, word_set
from curation.quality.settings import CheckSettings, require_int
from curation.quality.view import ExampleView, code_fences, words_of

__all__ = ["Truncated", "TruncatedSettings", "truncation_of"]


@dataclass(frozen=True, slots=True)
class TruncatedSettings(CheckSettings):
    """When an ending counts as cut off.

    Attributes
    ----------
    min_words_mid_sentence:
        An answer ending in a letter with no final punctuation is cut mid-sentence only when
        its last line has at least this many words and the answer ends at least two other
        sentences with punctuation: 8 leaves alone short answers ("Paris"), names, titles,
        signatures and list items, which rightly end without a full stop.
    min_words_dangling:
        Answers ending in a conjunction, article or preposition ("... and", "... of the") are
        checked from this many words: 4 leaves alone one-word answers that are such a word.
    """

    min_words_mid_sentence: int = 8
    min_words_dangling: int = 4

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_int(name, "min_words_mid_sentence", self.min_words_mid_sentence, low=1)
        require_int(name, "min_words_dangling", self.min_words_dangling, low=1)


# End-of-text tokens some datasets append to answers (T0's "<|endoftext|>"); they end nothing.
_END_TOKENS = re.compile(r"(?:\s*(?:<\|[a-z_]+\|>|</s>|\[/INST\]))+\s*$")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPENERS = "([{"
# English words that cannot end a sentence: conjunctions, articles, possessives and the
# prepositions that need an object even in speech. Left out on purpose: "a" (an option
# letter: "The answer is a"), and "to", "for", "with", "from", "in", "on", "is", "do",
# "that"..., which end complete sentences ("the book I was looking for").
_DANGLING = word_set(
    "and or but nor the an of because although though whereas unless than their its our "
    "your my whose including via versus vs per onto upon into"
)
# Marks that leave a sentence open. "|" (a Markdown table row), "+" ("C++"), "/" (a URL)
# and "=" end complete texts, so they are not among them.
_DANGLING_PUNCT = ",;:–—-("
_CLEAN_END = re.compile(r"[.!?…。！？\"'”’»)\]}*`>:;]$|[^\w\s,;(/&+=|\\-]$")
_ANNOUNCE = re.compile(
    rf"\b(?:here\s+(?:are|is)|following|these|top|there\s+are)\s+(?:the\s+)?({NUMBER})\s+"
    r"(?:[\w-]+\s+){0,3}?[\w-]*s\b",
    re.IGNORECASE,
)
_LIST_START = re.compile(r"^[ \t]*1[.)]", re.MULTILINE)
_BARE_MARKER = re.compile(r"[ \t]*(?:\d{1,3}[.)]|[-*+•])[ \t]*")
_LIST_LINE = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*+•]|#{1,6}\s|\|)")
_URLISH = re.compile(r"(?:https?://|www\.)\S+$")
# A last word that needs no full stop: a hashtag or mention ("#PuppyLove"), or a quotation's
# attribution ("... -C.S. Lewis", "— Mark Twain").
_FREE_ENDING = re.compile(
    r"(?:^|\s)[#@][\w-]+$|[\"'”’.!?]\s*[-—–~]\s*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3}$"
)
_CODE_LINE = re.compile(r"[(){}=]|^\s*(?:var|let|const|return|import|def|int|for|while)\b")


_LAST_WORD = re.compile(r"(?<![\w'’-])([A-Za-z]+)$")


def _has_words(text: str, n: int) -> bool:
    return len(words_of(text[-2000:])) >= n


@dataclass(frozen=True, slots=True)
class Cut:
    """How and where a text looks cut: ``kind``, offset, reason and a score (low = surer)."""

    kind: str
    offset: int
    reason: str
    score: float


def _unclosed_brackets(text: str) -> list[int]:
    """Offsets of openers never closed. A closer that matches nothing is ignored ("1)" lists)
    and so are the openers of emoticons (":(" and ":-(")."""
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch in _OPENERS:
            if ch == "(" and i and text[i - 1] in ":;-=" and (i < 2 or text[i - 2] != "("):
                continue
            stack.append(i)
        elif ch in _PAIRS:
            want = _PAIRS[ch]
            for k in range(len(stack) - 1, -1, -1):
                if text[stack[k]] == want:
                    del stack[k:]
                    break
    return stack


def truncation_of(text: str, settings: TruncatedSettings | None = None) -> Cut | None:
    """The strongest sign that `text` was cut off, or None when it ends as text ends.

    Checked in order: an unclosed code fence; a bare list marker or a numbered list shorter
    than the count it announced ("Here are 5 tips" then 3); a final comma, colon, dash or a
    word that cannot end a sentence; unclosed brackets at an unclean end; a long last line
    ending in a letter with no punctuation.
    """
    settings = settings or TruncatedSettings()
    body = text.rstrip()
    if body[-1:] in (">", "]"):
        body = body[:-200] + _END_TOKENS.sub("", body[-200:])
    if not body:
        return None
    fences = code_fences(body)
    open_fence = next((f for f in fences if not f.closed), None)
    if open_fence is not None:
        lang = f" {open_fence.info}" if open_fence.info else ""
        return Cut(
            "unclosed_fence",
            open_fence.start,
            f"A{lang} code block opened at line {body.count(chr(10), 0, open_fence.start) + 1} "
            "is never closed.",
            0.1,
        )
    tail_start = body.rfind("\n") + 1
    if _BARE_MARKER.fullmatch(body, tail_start):
        return Cut("list_stops", tail_start, "The answer ends on an empty list item.", 0.15)
    announced = _ANNOUNCE.search(body[:600]) if _LIST_START.search(body) else None
    if announced is not None:
        n = parse_count(announced.group(1))
        numbers = [k for k, _ in numbered_items(body[announced.end() :])]
        if n and 2 <= n <= 100 and numbers and max(numbers) < n and numbers[0] == 1:
            return Cut(
                "list_stops",
                len(body),
                f"The answer announces {announced.group(0).strip()!r} but its numbered list "
                f"stops at {max(numbers)}.",
                max(numbers) / n * 0.5,
            )
    in_code = bool(fences) and fences[-1].end >= len(body)
    if not in_code:
        last = body[-1]
        last_line = body.rsplit("\n", 1)[-1]
        # A statement of code ends with ";", an emoticon with "(": both are complete.
        complete = (last == ";" and _CODE_LINE.search(last_line) is not None) or (
            last == "(" and body[-2:-1] in (":", "-", ";", "=")
        )
        if (
            last in _DANGLING_PUNCT
            and not complete
            and _has_words(body, settings.min_words_dangling)
        ):
            return Cut("dangling_end", len(body) - 1, f"The answer ends with {last!r}.", 0.2)
        tail = _LAST_WORD.search(body[-30:]) if last.isalpha() else None
        if (
            tail is not None
            and tail.group(1).lower() in _DANGLING
            and _has_words(body, settings.min_words_dangling)
        ):
            return Cut(
                "dangling_end",
                len(body) - len(tail.group(1)),
                f"The answer ends with the word {tail.group(1)!r}, which cannot end a sentence.",
                0.2,
            )
    if not _CLEAN_END.search(body, len(body) - 1):
        unclosed = _unclosed_brackets(body)
        if unclosed:
            opener = body[unclosed[-1]]
            return Cut(
                "unbalanced_brackets",
                unclosed[-1],
                f"{len(unclosed)} bracket(s) never closed (the last {opener!r} at character "
                f"{unclosed[-1] + 1}) and the answer does not end cleanly.",
                0.25,
            )
    if not in_code:
        cut = _mid_sentence(body, settings)
        if cut is not None:
            return cut
    return None


def _tail(text: str, width: int = 60) -> str:
    """The last `width` characters of `text`, with "..." in front when cut."""
    text = " ".join(text.split())
    return text if len(text) <= width else "..." + text[-width:]


def _mid_sentence(body: str, settings: TruncatedSettings) -> Cut | None:
    if not body[-1].isalpha():
        return None
    last_line = body.rsplit("\n", 1)[-1].strip()
    if _LIST_LINE.match(last_line) or _URLISH.search(last_line) or _FREE_ENDING.search(last_line):
        return None
    line_words = words_of(last_line)
    if len(line_words) < settings.min_words_mid_sentence:
        return None
    sentence_ends = len(re.findall(r"[.!?](?:\s|$)", body))
    if sentence_ends < 2:
        return None
    lines = [ln for ln in body.splitlines() if ln.strip()]
    unpunctuated = sum(1 for ln in lines if ln.rstrip()[-1:].isalnum())
    if len(lines) >= 4 and unpunctuated / len(lines) > 0.5:
        return None  # verse, lists of names, a table in plain text: lines end without stops
    ends = [m.end() for m in re.finditer(r"[.!?]+\s+", body)]
    start = ends[-1] if ends else len(body) - len(last_line)
    return Cut(
        "mid_sentence",
        start,
        f"The answer stops mid-sentence: {_tail(body[start:])!r}.",
        0.35,
    )


class Truncated(ExampleCheck):
    """Flags answers that look cut off (see `truncation_of` for the signs, strongest first)."""

    code = "truncated"
    title = "Truncated answer"
    description = (
        "The answer stops mid-sentence, leaves a code fence or bracket open, ends on 'and' or "
        "a comma, or its list stops before the count it announced."
    )
    Settings = TruncatedSettings
    settings: TruncatedSettings

    def check(self, example: ExampleView) -> CheckResult:
        found: Flag | None = None
        for turn in example.text_turns:
            cut = truncation_of(turn.text, self.settings)
            if cut is None:
                continue
            flag = self.flag(
                cut.score,
                cut.reason
                if len(example.text_turns) == 1
                else f"Message {turn.index + 1}: {cut.reason}",
                kind=cut.kind,
                location=Location.at(turn.index, turn.text, cut.offset),
            )
            if found is None or flag.score < found.score:
                found = flag
        return KEEP if found is None else found
