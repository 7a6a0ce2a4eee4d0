"""The registration lines of the built-in bias checks: one import and one `register` each.

Their order is the order the page, the report and the summary list them in.
"""

from __future__ import annotations

from curation.bias.base import registry
from curation.bias.checks.labels import LabelBalance
from curation.bias.checks.languages import LanguageCoverage
from curation.bias.checks.lengths import LengthSkew
from curation.bias.checks.offensive import OffensiveTerms
from curation.bias.checks.outcomes import OutcomeDisparity
from curation.bias.checks.representation import Representation
from curation.bias.checks.topics import TopicCoverage

registry.register(LabelBalance)
registry.register(LengthSkew)
registry.register(LanguageCoverage)
registry.register(TopicCoverage)
registry.register(Representation)
registry.register(OutcomeDisparity)
registry.register(OffensiveTerms)
