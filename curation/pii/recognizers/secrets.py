"""Secrets: API keys and tokens in their published formats, private keys, passwords, and
high-entropy strings next to words such as "token" or "api key".

Every rule names itself in the finding (``github-token``, ``aws-access-key``...), so a reviewer
sees why a string was flagged without the string being logged anywhere.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from curation.pii.recognizers.base import make_result

__all__ = ["SecretRecognizer", "shannon_entropy"]

# (rule, regex, score): formats documented by their issuers; prefixes make them near-certain.
KNOWN_FORMATS: tuple[tuple[str, str, float], ...] = (
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]+?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        1.0,
    ),
    ("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b", 0.95),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,251}\b", 0.95),
    ("github-fine-grained-token", r"\bgithub_pat_[A-Za-z0-9_]{60,100}\b", 0.95),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}\b", 0.95),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", 0.95),
    ("slack-webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}", 0.95),
    ("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,99}\b", 0.95),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0.95),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_-]{20,}\b", 0.95),
    ("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b", 0.9),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,40}\b", 0.95),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", 0.95),
    ("pypi-token", r"\bpypi-[A-Za-z0-9_-]{50,}\b", 0.95),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", 0.95),
    ("twilio-key", r"\bSK[0-9a-f]{32}\b", 0.8),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}", 0.9),
    ("url-credentials", r"(?<=://)[^\s:/@]{1,64}:[^\s:/@]{3,128}(?=@[\w.-]+)", 0.85),
)

# key = value, key: value, "key": "value", Authorization: Bearer value
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<key>\b[\w.-]*(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|pass|
        access[_-]?key|auth[_-]?key|private[_-]?key|client[_-]?secret|credentials?)[\w.-]*)
    ["']?\s*(?:=|:|=>|\bis\b)\s*["']?
    (?P<value>[^\s"'`,;<>]{6,200})
    """
)
_BEARER = re.compile(r"(?i)\b(?:bearer|token)\s+(?P<value>[A-Za-z0-9._~+/=-]{20,})")
_CANDIDATE = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/_=-]{20,}(?![\w+/=-])")
_CONTEXT = re.compile(
    r"(?i)\b(?:api[ _-]?keys?|apikey|secret|token|passwords?|credentials?|access[ _-]?keys?|"
    r"auth|bearer|private[ _-]?key|client[ _-]?id|signing key)\b"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|<[^>]*>|\$\{?[\w]+\}?|your[_-].*|my[_-].*|example.*|changeme|"
    r"placeholder|redacted|none|null|true|false|\.{3,}|[\w-]*here)$"
)


def shannon_entropy(value: str) -> float:
    """Bits per character of `value` (random base64 ~6, hex ~4, English words ~3)."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _random_looking(value: str) -> bool:
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[+/_=-]"))
    if classes < 2 or not re.search(r"\d", value) and classes < 3:
        return False
    # Random strings of n characters over an alphabet of 16+ reach ~log2(n) bits quickly.
    return shannon_entropy(value) >= min(3.5, math.log2(len(value)) - 0.7)


class SecretRecognizer(LocalRecognizer):
    """API keys, tokens, private keys and passwords.

    Rules: the published token formats in `KNOWN_FORMATS` (score 0.8-1.0); an assignment to a
    secret-named key (``password = ...``, ``"api_key": "..."``; 0.7, 0.85 when the value also
    looks random); a ``Bearer`` token; and any random-looking string of 20+ characters
    (entropy test) within 48 characters of a context word such as "token" or "secret" (0.6).
    Placeholder values (``<your-key>``, ``xxxx``, ``${TOKEN}``) are never flagged.
    """

    name: str

    def __init__(self) -> None:
        super().__init__(supported_entities=["SECRET"], supported_language="en",
                         name="SecretRecognizer")  # fmt: skip
        self._formats = [(rule, re.compile(rx), score) for rule, rx, score in KNOWN_FORMATS]

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "SECRET" not in entities:
            return []
        out: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []

        def add(start: int, end: int, score: float, rule: str) -> None:
            if any(s <= start and end <= e for s, e in taken):
                return
            taken.append((start, end))
            out.append(make_result("SECRET", start, end, score, self.name, rule))

        for rule, rx, score in self._formats:
            for m in rx.finditer(text):
                add(m.start(), m.end(), score, rule)
        for m in _ASSIGNMENT.finditer(text):
            value = m.group("value").rstrip(".)]}")
            if _PLACEHOLDER.match(value) or len(value) < 6:
                continue
            key = m.group("key").lower()
            is_password = "pass" in key or "pwd" in key
            if not is_password and not _random_looking(value):
                continue
            start = m.start("value")
            add(start, start + len(value), 0.85 if _random_looking(value) else 0.7, "assignment")
        for m in _BEARER.finditer(text):
            value = m.group("value")
            if _random_looking(value):
                add(m.start("value"), m.end("value"), 0.8, "bearer-token")
        for m in _CANDIDATE.finditer(text):
            value = m.group()
            if _PLACEHOLDER.match(value) or not _random_looking(value):
                continue
            if _CONTEXT.search(text, max(0, m.start() - 48), m.start()):
                add(m.start(), m.end(), 0.6, "high-entropy-near-context")
        return out
