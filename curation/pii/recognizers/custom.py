"""User-defined recognizers from a project's configuration, and the offline email recognizer.

A `CustomRecognizerSpec` becomes a presidio `PatternRecognizer` (regexes with context words
and scores, deny lists), exactly as presidio's YAML recognizer configuration would build it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from presidio_analyzer import Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from curation.pii.config import CustomRecognizerSpec

__all__ = ["OfflineEmailRecognizer", "build_custom_recognizer", "offline_tld_extractor"]


def build_custom_recognizer(spec: CustomRecognizerSpec) -> PatternRecognizer:
    """The presidio recognizer for one user-defined entity type."""
    kwargs: dict[str, Any] = {}
    if spec.patterns:
        kwargs["patterns"] = [Pattern(p.name, p.regex, p.score) for p in spec.patterns]
    if spec.deny_list:
        kwargs["deny_list"] = list(spec.deny_list)
    if spec.context:
        kwargs["context"] = list(spec.context)
    return PatternRecognizer(
        supported_entity=spec.supported_entity,
        name=spec.name,
        supported_language="en",
        deny_list_score=spec.deny_list_score,
        **kwargs,
    )


@lru_cache(maxsize=1)
def offline_tld_extractor():  # type: ignore[no-untyped-def]
    """A tldextract extractor on the suffix list bundled with tldextract: it never fetches."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's EmailRecognizer, validating domains with the bundled public suffix list.

    presidio's own calls ``tldextract.extract``, whose default extractor downloads the list
    on first use; this one never opens a socket.
    """

    def __init__(self) -> None:
        super().__init__(name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        return bool(offline_tld_extractor()(pattern_text).fqdn)
