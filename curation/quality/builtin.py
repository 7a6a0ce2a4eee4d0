"""The registration lines of the built-in quality checks: one import and one `register` each.

Their order is the order the Quality page and the summary list them in.
"""

from __future__ import annotations

from curation.quality.base import registry
from curation.quality.flags.conflicts import ConflictingAnswers
from curation.quality.flags.copying import CopiedPrompt
from curation.quality.flags.empty import EmptyAnswer, EmptyPrompt
from curation.quality.flags.language import LanguageMismatch
from curation.quality.flags.length import TooShort
from curation.quality.flags.placeholders import Placeholder
from curation.quality.flags.refusal import Boilerplate, Refusal
from curation.quality.flags.repetition import Repetition
from curation.quality.flags.truncation import Truncated
from curation.quality.structure.checks import InvalidStructure, InvalidToolCall

registry.register(EmptyAnswer)
registry.register(EmptyPrompt)
registry.register(TooShort)
registry.register(Truncated)
registry.register(Refusal)
registry.register(Boilerplate)
registry.register(Placeholder)
registry.register(Repetition)
registry.register(LanguageMismatch)
registry.register(CopiedPrompt)
registry.register(ConflictingAnswers)
registry.register(InvalidStructure)
registry.register(InvalidToolCall)
