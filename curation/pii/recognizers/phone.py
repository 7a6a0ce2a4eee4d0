"""Phone numbers that `phonenumbers` cannot place in a region, found by the words around them.

"Mobile: 041-412-293", "call me on 21 212 133 2727", "+1-944-435-4352x04732 mobile": a run of
7-15 digits in phone grouping next to a phone word, with its extension.
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from curation.pii.recognizers.base import has_context, make_result

__all__ = ["ContextPhoneRecognizer"]

_PHONE = re.compile(
    r"(?<![\w+.-])(?:\+|00)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\(?\d{1,5}\)?){1,5}"
    r"(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6})?(?![\w-])"
    r"|(?<![\w+.-])(?:\+|00)?\(\d{1,5}\)[ .-]?\d{2,4}(?:[ .-]?\d{2,5}){1,3}(?![\w-])"
    r"|(?<![\w+.-])(?:\+|00)\d{1,3}[ ]?\(0\)[ ]?\d[\d /-]{4,14}\d(?![\w-])"
)
_CONTEXT = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|cellphone|fax|call|calling|ring|text|sms|whatsapp|"
    r"contact|reach|dial|office|desk|landline|number|hotline|line)\b"
)
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


class ContextPhoneRecognizer(LocalRecognizer):
    """7-15 digits in phone grouping with a phone word within 48 characters before or 16 after.

    Score 0.6 (checksums do not exist for phone numbers; context is the evidence). Dates such
    as 12/03/2024, card-length runs of 16+ digits and numbers without separators are skipped.
    """

    name: str

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language="en",
                         name="ContextPhoneRecognizer")  # fmt: skip

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PHONE_NUMBER" not in entities:
            return []
        out = []
        for m in _PHONE.finditer(text):
            value = m.group().rstrip(".-")
            main = re.split(r"(?i)[ \t]?(?:x|ext\.?|extension)[ \t]?\d", value)[0]
            digits = sum(c.isdigit() for c in main)
            if not 7 <= digits <= 15 or _DATE_LIKE.match(value):
                continue
            end = m.start() + len(value)
            if has_context(text, m.start(), end, _CONTEXT, before=48, after=16):
                out.append(make_result("PHONE_NUMBER", m.start(), end, 0.6, self.name,
                                       "digits-near-phone-word"))  # fmt: skip
        return out
