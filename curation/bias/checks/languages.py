"""The language of each turn, per role, and answers in another language than their prompt.

Detection is the quality step's (`text_language`: code left out, plain English recognised first,
then the offline py3langid model); the mismatch verdict is its `LanguageMismatch` check.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from curation.bias.base import AuditCheck, AuditRow, Bar, Chart, CheckOutput, Tick
from curation.bias.codes import language_code, mismatch_code
from curation.bias.data_set import AuditData
from curation.quality.base import Flag
from curation.quality.flags.language import LanguageMismatch, text_language
from curation.quality.settings import CheckSettings, require_fraction
from curation.text.language import MIN_CONFIDENCE, UNDETERMINED

__all__ = ["LanguageCoverage", "LanguageCoverageSettings"]

ROLES = ("system", "user", "assistant")  # tool output is data, not language the model writes


@dataclass(frozen=True, slots=True)
class LanguageCoverageSettings(CheckSettings):
    """When the language mix is reported and mismatches are a warning.

    Attributes
    ----------
    min_confidence:
        Confidence a turn's detection needs to count for its language (below: undetermined):
        0.5, the detector's own cut-off for a guess.
    other_share:
        Share of a role's determined turns in languages other than its main one from which the
        mix is reported: 0.01.
    mismatch_warn_share:
        Share of examples answered in another language than asked in from which it is a
        warning: 0.01 (one in a hundred already teaches switching languages).
    """

    min_confidence: float = MIN_CONFIDENCE
    other_share: float = 0.01
    mismatch_warn_share: float = 0.01

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_fraction(name, "min_confidence", self.min_confidence)
        require_fraction(name, "other_share", self.other_share)
        require_fraction(name, "mismatch_warn_share", self.mismatch_warn_share)


class LanguageCoverage(AuditCheck):
    """Detects the language of every system, user and assistant turn and counts them per role;
    an example's language for a role is that of most of its turns of the role. Examples whose
    answer is in another language than their prompt (unless it asks for one) are listed."""

    code = "language"
    title = "Languages"
    description = (
        "The language of each turn per role, and answers in another language than their prompt: "
        "a model copies its data's language mix and learns to switch languages from mismatches."
    )
    Settings = LanguageCoverageSettings
    settings: LanguageCoverageSettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        s = self.settings
        out = CheckOutput()
        cache: dict[str, str] = {}
        turns: dict[str, Counter[str]] = defaultdict(Counter)  # role -> language -> turns
        examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        mismatches: dict[str, list[str]] = defaultdict(list)
        mismatch_check = LanguageMismatch()
        subjects = data.coverage
        for k, subject in enumerate(subjects):
            if k % 200 == 0:
                tick(k, len(subjects))
            per_role: dict[str, Counter[str]] = defaultdict(Counter)
            for message in subject.messages:
                if message.role not in ROLES or not message.content:
                    continue
                cached = cache.get(message.content)
                if cached is not None:
                    language = cached
                else:
                    found = text_language(message.content)
                    language = (
                        found[0]
                        if found is not None and found[1] >= s.min_confidence
                        else UNDETERMINED
                    )
                    cache[message.content] = language
                per_role[message.role][language] += 1
                turns[message.role][language] += 1
            for role, counts in per_role.items():
                main = counts.most_common(1)[0][0]
                examples[role][main].append(subject.id)
                out.rows.append(AuditRow(subject.id, language_code(role, main)))
            flag = mismatch_check.check(subject.view)
            if isinstance(flag, Flag):
                pair = flag.kind or "?"
                mismatches[pair].append(subject.id)
                for code in (mismatch_code(), mismatch_code(pair)):
                    out.rows.append(AuditRow(subject.id, code, flag.score, flag.reason, flag.data))
        n = len(subjects)
        out.charts.append(self._languages_chart(examples))
        if mismatches:
            out.charts.append(
                Chart(
                    f"{self.code}:mismatch",
                    "Answers in another language than the prompt (prompt -> answer)",
                    "bar",
                    "examples",
                    "languages",
                    tuple(
                        Bar(pair, len(ids), len(ids), (mismatch_code(pair),))
                        for pair, ids in sorted(mismatches.items(), key=lambda kv: -len(kv[1]))
                    ),
                )
            )
        for role in ROLES:
            if role in examples:
                self._mix(role, examples[role], out)
        n_mismatch = sum(len(ids) for ids in mismatches.values())
        if n_mismatch:
            share = n_mismatch / n
            pairs = ", ".join(
                f"{p} {len(ids)}"
                for p, ids in sorted(mismatches.items(), key=lambda kv: -len(kv[1]))
            )
            out.findings.append(
                self.finding(
                    "warning" if share >= s.mismatch_warn_share else "info",
                    f"{n_mismatch} answer(s) ({share:.1%}) are in another language than their "
                    f"prompt ({pairs}), which does not ask for one: translate the answers or "
                    "reject these examples.",
                    metric="mismatch_share",
                    value=share,
                    threshold=s.mismatch_warn_share,
                    example_ids=[i for ids in mismatches.values() for i in ids],
                    codes=(mismatch_code(),),
                    weight=share / s.mismatch_warn_share if s.mismatch_warn_share else share,
                )
            )
        out.info = {
            "turns": {role: dict(c.most_common()) for role, c in turns.items()},
            "examples": {
                role: {
                    lang: len(ids) for lang, ids in sorted(d.items(), key=lambda kv: -len(kv[1]))
                }
                for role, d in examples.items()
            },
            "mismatches": {pair: len(ids) for pair, ids in mismatches.items()},
        }
        prompts = self._main(examples.get("user", {}))
        if prompts:
            out.message = f"Prompts mostly in {prompts}; {n_mismatch} answer(s) in another language than asked."
        return out

    @staticmethod
    def _main(by_language: dict[str, list[str]]) -> str | None:
        determined = {k: v for k, v in by_language.items() if k != UNDETERMINED}
        if not determined:
            return None
        return max(determined.items(), key=lambda kv: (len(kv[1]), kv[0]))[0]

    def _languages_chart(self, examples: dict[str, dict[str, list[str]]]) -> Chart:
        bars = []
        for role in ROLES:
            for language, ids in sorted(examples.get(role, {}).items(), key=lambda kv: -len(kv[1])):
                bars.append(
                    Bar(language, len(ids), len(ids), (language_code(role, language),), series=role)
                )
        return Chart(
            f"{self.code}:per_role",
            "Examples per language, by role",
            "bar",
            "examples",
            "language",
            tuple(bars),
            note=f"{UNDETERMINED}: too little text, or a guess below the confidence threshold",
        )

    def _mix(self, role: str, by_language: dict[str, list[str]], out: CheckOutput) -> None:
        main = self._main(by_language)
        if main is None:
            return
        determined = sum(len(ids) for lang, ids in by_language.items() if lang != UNDETERMINED)
        others = {
            lang: ids for lang, ids in by_language.items() if lang not in (main, UNDETERMINED)
        }
        n_other = sum(len(ids) for ids in others.values())
        share = n_other / determined if determined else 0.0
        if share < self.settings.other_share or not others:
            return
        listed = ", ".join(
            f"{lang} {len(ids)}"
            for lang, ids in sorted(others.items(), key=lambda kv: -len(kv[1]))[:6]
        )
        undetermined = len(by_language.get(UNDETERMINED, []))
        words = {"user": "Prompts", "assistant": "Answers", "system": "System prompts"}[role]
        out.findings.append(
            self.finding(
                "info",
                f"{words}: {1 - share:.0%} in {main} ({determined - n_other} of {determined} with "
                f"a detected language); {n_other} in {len(others)} other language(s) ({listed})"
                + (f"; {undetermined} undetermined" if undetermined else "")
                + ". Keep them if the model should handle these languages, else remove them.",
                metric="other_language_share",
                value=share,
                threshold=self.settings.other_share,
                group=role,
                example_ids=[i for ids in others.values() for i in ids],
                weight=share,
            )
        )
