"""Text utilities shared by several steps: writing scripts and offline language detection.

Dedup shingles by script; the quality flags, the bias audit and the dataset card reuse the detector.
"""

from curation.text.language import (
    LanguageProfile,
    detect_language,
    detect_languages,
    language_profile,
)
from curation.text.script import SPACELESS_SCRIPTS, has_spaceless_script, segment_spaceless

__all__ = [
    "SPACELESS_SCRIPTS",
    "LanguageProfile",
    "detect_language",
    "detect_languages",
    "has_spaceless_script",
    "language_profile",
    "segment_spaceless",
]
