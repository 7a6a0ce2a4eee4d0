"""Toxic or offensive terms from the shipped list, in prompts and in answers.

An answer that swears or slurs teaches the model to; a prompt that does may be there on purpose
(the answer should handle it), so prompts alone are reported, answers are judged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from curation.bias.base import AuditCheck, AuditRow, Bar, Chart, CheckOutput, Tick
from curation.bias.codes import offensive_code
from curation.bias.data_set import AuditData
from curation.bias.terms import TermMatcher
from curation.quality.settings import CheckSettings, require_int

__all__ = ["OffensiveTerms", "OffensiveTermsSettings"]

SIDES = ("answer", "prompt")


@dataclass(frozen=True, slots=True)
class OffensiveTermsSettings(CheckSettings):
    """How many matched terms a finding quotes.

    Attributes
    ----------
    quoted:
        Most frequent matched terms named in a finding's message: 5.
    """

    quoted: int = 5

    def __post_init__(self) -> None:
        require_int(type(self).__name__, "quoted", self.quoted, low=0, high=100)


class OffensiveTerms(AuditCheck):
    """Finds whole-word matches of the shipped offensive-term list (profanity, insults, slurs,
    violent threats, sexually explicit terms) in each example's prompt and answer.

    Answers: each category is a finding with the category's severity (slurs critical, the
    rest warnings). Prompts whose answers are clean: info.
    """

    code = "offensive_terms"
    title = "Offensive terms"
    description = (
        "Profanity, insults, slurs, threats and explicit terms from a shipped, documented list, "
        "in prompts and answers: a model repeats what its answers say."
    )
    Settings = OffensiveTermsSettings
    settings: OffensiveTermsSettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        out = CheckOutput()
        terms = data.offensive
        matcher = TermMatcher({g.key: g.terms for g in terms.groups})
        hits: dict[tuple[str, str], list[str]] = defaultdict(list)  # (category, side) -> ids
        quoted: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        subjects = data.coverage
        for k, s in enumerate(subjects):
            if k % 1000 == 0:
                tick(k, len(subjects))
            for side, tokens in (("answer", s.answer_words), ("prompt", s.prompt_words)):
                found = matcher.matches(tokens)
                if not found:
                    continue
                by_category: dict[str, list[str]] = defaultdict(list)
                for category, term in found:
                    by_category[category].append(term)
                for category, matched in by_category.items():
                    hits[(category, side)].append(s.id)
                    quoted[(category, side)].update(matched)
                    out.rows.append(
                        AuditRow(
                            s.id,
                            offensive_code(category, side),
                            None,
                            f"{side} contains {', '.join(sorted(set(matched)))}",
                            {"terms": sorted(set(matched)), "count": len(matched)},
                        )
                    )
        bars = []
        for g in terms.groups:
            for side in SIDES:
                ids = hits.get((g.key, side), [])
                if ids:
                    bars.append(
                        Bar(
                            g.label, len(ids), len(ids), (offensive_code(g.key, side),), series=side
                        )
                    )
        out.charts.append(
            Chart(
                f"{self.code}:categories",
                "Examples with offensive terms, by category",
                "bar",
                "examples",
                "category",
                tuple(bars),
                note=f"term list {terms.name} {terms.version} ({terms.license})",
            )
        )
        n = len(subjects)
        for g in terms.groups:
            answers = hits.get((g.key, "answer"), [])
            prompts_only = sorted(set(hits.get((g.key, "prompt"), [])) - set(answers))
            words = ", ".join(
                t for t, _ in quoted[(g.key, "answer")].most_common(self.settings.quoted)
            )
            if answers:
                out.findings.append(
                    self.finding(
                        "critical" if g.severity == "critical" else "warning",
                        f"{len(answers)} answer(s) ({len(answers) / n:.1%}) contain {g.label} "
                        f"({words}): review these {len(answers)}; rewrite the answers or reject "
                        "the examples unless the words are quoted on purpose.",
                        metric="answers_with_terms",
                        value=len(answers) / n,
                        threshold=0.0,
                        group=g.key,
                        example_ids=answers,
                        codes=(offensive_code(g.key, "answer"),),
                        weight=len(answers),
                    )
                )
            if prompts_only:
                in_prompts = ", ".join(
                    t for t, _ in quoted[(g.key, "prompt")].most_common(self.settings.quoted)
                )
                out.findings.append(
                    self.finding(
                        "info",
                        f"{len(prompts_only)} prompt(s) contain {g.label} ({in_prompts}) and their "
                        "answers do not: keep them if the answers handle them well.",
                        metric="prompts_with_terms",
                        value=len(prompts_only) / n,
                        group=g.key,
                        example_ids=prompts_only,
                        codes=(offensive_code(g.key, "prompt"),),
                        weight=len(prompts_only),
                    )
                )
        out.info = {
            "counts": {
                g.key: {side: len(hits.get((g.key, side), [])) for side in SIDES}
                for g in terms.groups
            },
            "term_list": terms.provenance(),
        }
        total = len({i for ids in hits.values() for i in ids})
        out.message = f"{total} example(s) contain a listed term."
        return out
