"""The bias-check contract: registered checks run in order, a broken check is reported as data
and the others still run, findings are ranked, and the configuration is validated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from curation.bias import AuditCheck, AuditConfig, CheckOutput, registry, run_audit
from curation.bias.base import make_code
from curation.bias.data_set import AuditData
from curation.errors import CurationError, InputError
from curation.progress import ProgressUpdate
from tests.unit.test_bias_checks import ex, skewed_examples


class Broken(AuditCheck):
    code = "broken_for_test"
    title = "Broken"
    description = "Raises on every run."

    def run(self, data: AuditData, tick):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom in the check")


class Counting(AuditCheck):
    code = "counting_for_test"
    title = "Counting"
    description = "One info finding with the number of examples in scope."

    def run(self, data: AuditData, tick):  # type: ignore[no-untyped-def]
        out = CheckOutput()
        out.findings.append(
            self.finding("info", f"{data.n} examples", metric="n", value=data.n, n=data.n)
        )
        return out


@pytest.fixture()
def extra_checks() -> Iterator[None]:
    registry.register(Broken)
    registry.register(Counting)
    yield
    registry.unregister(Broken.code)
    registry.unregister(Counting.code)


def test_a_broken_check_is_reported_and_the_others_run(extra_checks: None) -> None:
    config = AuditConfig(checks=("label_balance", Broken.code, Counting.code, "outcome_disparity"))
    report = run_audit(skewed_examples(), config)
    assert [c.code for c in report.checks] == [
        "label_balance",
        "outcome_disparity",
        Broken.code,
        Counting.code,
    ]  # registry order
    broken = report.check(Broken.code)
    assert broken is not None and broken.severity == "failed"
    assert broken.error == "RuntimeError: boom in the check"
    assert "boom in the check" in broken.info["traceback"]
    assert report.summary.failed == (Broken.code,)
    assert "1 check(s) failed: broken_for_test" in report.summary.message
    counting = report.check(Counting.code)
    assert counting is not None and counting.findings[0].value == 74  # active examples
    outcome = report.check("outcome_disparity")
    assert outcome is not None and outcome.severity == "critical"
    assert report.findings[0].check == "outcome_disparity"  # the most severe comes first


def test_findings_are_ranked_by_severity() -> None:
    report = run_audit(skewed_examples())
    ranks = [("critical", "warning", "info").index(f.severity) for f in report.findings]
    assert ranks == sorted(ranks)
    assert report.summary.counts["critical"] == sum(
        f.severity == "critical" for f in report.findings
    )
    assert report.summary.severity == "critical"


def test_progress_reports_each_check_and_can_stop_the_run() -> None:
    seen: list[str] = []

    def progress(update: ProgressUpdate) -> None:
        seen.append(update.stage)

    run_audit(skewed_examples(), AuditConfig(checks=("label_balance", "topics")), progress=progress)
    assert "bias audit" in seen and "bias audit: topic coverage" in seen

    class Stop(BaseException):
        pass

    def stop(update: ProgressUpdate) -> None:
        if update.stage.startswith("bias audit: topic"):
            raise Stop

    with pytest.raises(Stop):  # a cancel is not a failed check: the run stops
        run_audit(skewed_examples(), AuditConfig(checks=("label_balance", "topics")), progress=stop)


def test_config_errors_name_the_bad_value() -> None:
    with pytest.raises(InputError, match="unknown bias check 'nope'; known checks: label_balance"):
        AuditConfig(checks=("nope",))
    with pytest.raises(InputError, match="unknown LabelBalanceSettings setting"):
        AuditConfig(settings={"label_balance": {"ratio": 3}})
    with pytest.raises(InputError, match="coverage_statuses"):
        AuditConfig(coverage_statuses=("archived",))
    with pytest.raises(InputError, match="unknown AuditConfig key"):
        AuditConfig.from_dict({"checks": None, "colour": "red"})
    config = AuditConfig(
        checks=("topics",), settings={"topics": {"n_topics": 3}}, label_fields=("x",)
    )
    assert AuditConfig.from_dict(config.to_dict()) == config


def test_nothing_in_scope_is_an_error() -> None:
    with pytest.raises(CurationError, match="No example to audit"):
        run_audit([(ex("q", "a", ident="r"), "rejected")])


def test_long_codes_stay_within_the_store_column_and_apart() -> None:
    a, b = make_code("label", "x" * 200 + "a"), make_code("label", "x" * 200 + "b")
    assert len(a) <= 100 and len(b) <= 100 and a != b
    assert make_code("mention", "gender", "female") == "mention:gender:female"
