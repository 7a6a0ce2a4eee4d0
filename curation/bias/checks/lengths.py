"""Length of prompts and answers, in characters and tokens, per role and per label value.

A category whose answers are much shorter than the rest teaches the model to answer it briefly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from statistics import median
from typing import Any

import numpy as np

from curation.bias.base import (
    AuditCheck,
    AuditRow,
    Bar,
    Chart,
    CheckOutput,
    Finding,
    Severity,
    Tick,
)
from curation.bias.codes import label_code, length_code
from curation.bias.data_set import AuditData, AuditSubject, LabelField
from curation.export.tokens import estimate_tokens
from curation.quality.settings import CheckSettings, require_int, require_number

__all__ = ["LengthSkew", "LengthSkewSettings", "token_bin"]

# Histogram bins by powers of two: lengths of instruction data span four orders of magnitude.
_EDGES = (0, 1, 9, 17, 33, 65, 129, 257, 513, 1025, 2049, 4097)


def token_bin(tokens: int) -> str:
    """The histogram bin of a token count: ``"0"``, ``"1-8"``, ``"9-16"`` ... ``"4097+"``."""
    if tokens <= 0:
        return "0"
    for lo, hi in zip(_EDGES[1:], _EDGES[2:], strict=False):
        if tokens < hi:
            return f"{lo}-{hi - 1}"
    return f"{_EDGES[-1]}+"


BIN_ORDER = ["0"] + [f"{lo}-{hi - 1}" for lo, hi in zip(_EDGES[1:], _EDGES[2:], strict=False)]
BIN_ORDER.append(f"{_EDGES[-1]}+")


@dataclass(frozen=True, slots=True)
class LengthSkewSettings(CheckSettings):
    """When a label value's answers are too short or too long against the rest.

    Attributes
    ----------
    info_factor:
        Median answer tokens of a value against the median of every other example, from which
        the gap is reported: 2 (twice as long or half as long).
    warn_factor:
        From this factor it is a warning: 3.
    min_group:
        Examples a value needs before its median is compared: 20 (a median of 5 moves with
        every example).
    """

    info_factor: float = 2.0
    warn_factor: float = 3.0
    min_group: int = 20

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_number(name, "info_factor", self.info_factor, low=1.0, high=1e6)
        require_number(name, "warn_factor", self.warn_factor, low=self.info_factor, high=1e6)
        require_int(name, "min_group", self.min_group, low=1)


@dataclass(slots=True)
class _Lengths:
    prompt_chars: int
    prompt_tokens: int
    answer_chars: int
    answer_tokens: int


def _summary(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    arr = np.asarray(values)
    return {
        "n": len(values),
        "mean": round(float(arr.mean()), 1),
        "median": float(np.median(arr)),
        "p90": float(np.percentile(arr, 90)),
        "max": int(arr.max()),
    }


class LengthSkew(AuditCheck):
    """Measures prompts and answers (characters and estimated tokens) per example, per role and
    per label value, and reports values whose answers are much shorter or longer than the rest.

    Tokens are `curation.export.tokens.estimate_tokens` (within about 20 % of cl100k_base on
    English prose), so the check needs no tokenizer.
    """

    code = "length"
    title = "Prompt and answer length"
    description = (
        "Characters and tokens of prompts and answers, per role and per category: a category "
        "answered much more briefly (or verbosely) than the rest teaches that style for it."
    )
    Settings = LengthSkewSettings
    settings: LengthSkewSettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        out = CheckOutput()
        lengths: dict[str, _Lengths] = {}
        per_role: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"chars": [], "tokens": []})
        answer_bins: dict[str, list[str]] = defaultdict(list)
        prompt_bins: dict[str, list[str]] = defaultdict(list)
        subjects = data.subjects
        for k, s in enumerate(subjects):
            if k % 500 == 0:
                tick(k, len(subjects))
            m = _Lengths(
                len(s.prompt), estimate_tokens(s.prompt), len(s.answer), estimate_tokens(s.answer)
            )
            lengths[s.id] = m
            if not s.in_scope:
                continue
            for message in s.messages:
                text = message.content or ""
                per_role[message.role]["chars"].append(len(text))
                per_role[message.role]["tokens"].append(estimate_tokens(text))
            a_bin, p_bin = token_bin(m.answer_tokens), token_bin(m.prompt_tokens)
            answer_bins[a_bin].append(s.id)
            prompt_bins[p_bin].append(s.id)
            detail = {
                "prompt_chars": m.prompt_chars,
                "prompt_tokens": m.prompt_tokens,
                "answer_chars": m.answer_chars,
                "answer_tokens": m.answer_tokens,
            }
            out.rows.append(AuditRow(s.id, length_code("answer", a_bin), None, None, detail))
            out.rows.append(AuditRow(s.id, length_code("prompt", p_bin)))
        out.charts.append(self._histogram("answer", answer_bins))
        out.charts.append(self._histogram("prompt", prompt_bins))
        roles = {role: {m: _summary(v) for m, v in d.items()} for role, d in per_role.items()}
        out.charts.append(
            Chart(
                f"{self.code}:roles",
                "Median tokens per turn, by role",
                "bar",
                "median tokens",
                "role",
                tuple(
                    Bar(
                        role,
                        float(stats["tokens"]["median"]),
                        int(stats["tokens"]["n"]),
                        detail=f"median {stats['chars']['median']:g} characters; "
                        f"p90 {stats['tokens']['p90']:g} tokens",
                    )
                    for role, stats in roles.items()
                ),
            )
        )
        coverage = [s for s in data.coverage]
        overall = {
            "prompt_chars": _summary([lengths[s.id].prompt_chars for s in coverage]),
            "prompt_tokens": _summary([lengths[s.id].prompt_tokens for s in coverage]),
            "answer_chars": _summary([lengths[s.id].answer_chars for s in coverage]),
            "answer_tokens": _summary([lengths[s.id].answer_tokens for s in coverage]),
        }
        per_value: dict[str, dict[str, Any]] = {}
        for field in data.fields:
            table = self._per_value(data, field, lengths, out)
            if table:
                per_value[field.name] = table
        out.info = {"overall": overall, "roles": roles, "per_value": per_value}
        answer = overall["answer_tokens"]
        if answer.get("n"):
            out.message = (
                f"Answers: median {answer['median']:g} tokens (p90 {answer['p90']:g}); prompts: "
                f"median {overall['prompt_tokens']['median']:g} tokens."
            )
        return out

    def _histogram(self, side: str, bins: dict[str, list[str]]) -> Chart:
        return Chart(
            f"{self.code}:{side}_tokens",
            f"{side.capitalize()} length (estimated tokens)",
            "bar",
            "examples",
            "tokens",
            tuple(
                Bar(b, len(bins[b]), len(bins[b]), (length_code(side, b),))
                for b in BIN_ORDER
                if bins.get(b)
            ),
            sort="given",
        )

    def _per_value(
        self,
        data: AuditData,
        field: LabelField,
        lengths: dict[str, _Lengths],
        out: CheckOutput,
    ) -> dict[str, Any]:
        groups: dict[str, list[AuditSubject]] = defaultdict(list)
        for subject in data.population(field):
            groups[subject.labels[field.name]].append(subject)
        if len(groups) < 2:
            return {}
        tokens = {
            v: [lengths[x.id].answer_tokens for x in members] for v, members in groups.items()
        }
        table: dict[str, Any] = {}
        bars = []
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        for value, members in ordered:
            mine = tokens[value]
            rest = [t for other, ts in tokens.items() if other != value for t in ts]
            here, there = float(median(mine)), float(median(rest)) if rest else 0.0
            table[value] = {"n": len(mine), "median_answer_tokens": here, "median_rest": there}
            bars.append(
                Bar(
                    value,
                    here,
                    len(mine),
                    (label_code(field.name, value),),
                    detail=f"median of the rest: {there:g}",
                )
            )
            # with two values, each is the other's "rest": judge the smaller one only
            if len(ordered) == 2 and value == ordered[0][0]:
                continue
            finding = self._judge(field, value, members, here, there)
            if finding is not None:
                out.findings.append(finding)
        out.charts.append(
            Chart(
                f"{self.code}:per_value:{field.name}",
                f"Median answer tokens per {field.name}",
                "bar",
                "median answer tokens",
                field.name,
                tuple(bars[:30]),
            )
        )
        return table

    def _judge(
        self,
        field: LabelField,
        value: str,
        members: list[AuditSubject],
        here: float,
        there: float,
    ) -> Finding | None:
        s = self.settings
        if len(members) < s.min_group or here <= 0 or there <= 0:
            return None
        factor = max(here, there) / min(here, there)
        if factor < s.info_factor:
            return None
        shorter = here < there
        severity: Severity = "warning" if factor >= s.warn_factor and not field.verdict else "info"
        if shorter:
            advice = f"the model learns to answer {value!r} briefly: add fuller answers there if the task needs them"
        else:
            advice = f"the model learns to answer {value!r} at length: check the length fits"
        return self.finding(
            severity,
            f"Answers with {field.name} {value!r} are {factor:.1f}x "
            f"{'shorter' if shorter else 'longer'} than the rest (median {here:g} vs {there:g} "
            f"tokens, {len(members)} examples): {advice}.",
            metric="median_answer_tokens_ratio",
            value=here / there,
            threshold=(1 / s.info_factor) if shorter else s.info_factor,
            field=field.name,
            group=value,
            example_ids=[m.id for m in members],
            codes=(label_code(field.name, value),),
            weight=factor,
        )
