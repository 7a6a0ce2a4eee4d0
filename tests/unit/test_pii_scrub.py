"""Scrubbing tests: every operator, consistency across examples and turns, keyed hashes,
surrogates of the same kind, residual scan, and no raw PII in anything meant to be persisted.

Findings are built by hand from known offsets, so operators are tested apart from detection.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.errors import PiiConfigError
from curation.pii import (
    Finding,
    FindingCache,
    PiiConfig,
    PiiScanner,
    residual_findings,
    text_sha256,
)
from curation.pii.operators import (
    ReplacementMap,
    Scrubber,
    ScrubConfig,
    keyed_hash,
    new_project_secret,
)
from curation.pii.surrogates import iban_is_valid, luhn_is_valid

SECRET = "0123456789abcdef0123456789abcdef"


def finding(text: str, value: str, entity: str, *, nth: int = 0, score: float = 0.9) -> Finding:
    start = [m.start() for m in re.finditer(re.escape(value), text)][nth]
    return Finding(start, start + len(value), entity, score, "test", text_sha256(text))


TURN_1 = "Hi, I'm Anna Berg, call me at (555) 123-4567 or anna@example.org."
TURN_2 = "Anna Berg again: my other number is 555-987-6543, the first was 555.123.4567."
FINDINGS_1 = [
    finding(TURN_1, "Anna Berg", "PERSON"),
    finding(TURN_1, "(555) 123-4567", "PHONE_NUMBER"),
    finding(TURN_1, "anna@example.org", "EMAIL_ADDRESS"),
]
FINDINGS_2 = [
    finding(TURN_2, "Anna Berg", "PERSON"),
    finding(TURN_2, "555-987-6543", "PHONE_NUMBER"),
    finding(TURN_2, "555.123.4567", "PHONE_NUMBER"),
]


def test_placeholder_operator() -> None:
    out = Scrubber(SECRET).apply(TURN_1, FINDINGS_1)
    assert out.text == "Hi, I'm <PERSON>, call me at <PHONE_NUMBER> or <EMAIL_ADDRESS>."


def test_numbered_placeholders_are_consistent_across_turns_and_runs() -> None:
    scrubber = Scrubber(SECRET, config=ScrubConfig(operator="numbered"))
    one, two = scrubber.apply_many([TURN_1, TURN_2], [FINDINGS_1, FINDINGS_2])
    assert one.text == "Hi, I'm <PERSON_1>, call me at <PHONE_NUMBER_1> or <EMAIL_ADDRESS_1>."
    # The same phone written another way is the same number; a new phone gets the next one.
    assert two.text == (
        "<PERSON_1> again: my other number is <PHONE_NUMBER_2>, the first was <PHONE_NUMBER_1>."
    )
    # The map is persisted and passed back: a later run continues the same numbering.
    restored = ReplacementMap.from_dict(json.loads(json.dumps(scrubber.mapping.to_dict())))
    later = Scrubber(SECRET, config=ScrubConfig(operator="numbered"), mapping=restored)
    text = "New mail from anna@example.org and bob@example.org"
    out = later.apply(
        text,
        [
            finding(text, "anna@example.org", "EMAIL_ADDRESS"),
            finding(text, "bob@example.org", "EMAIL_ADDRESS"),
        ],
    )
    assert out.text == "New mail from <EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2>"


def test_mask_operator_with_and_without_kept_digits() -> None:
    text = "card 4532276644577020 ok"
    f = [finding(text, "4532276644577020", "CREDIT_CARD")]
    assert Scrubber(SECRET, config=ScrubConfig(operator="mask")).apply(text, f).text == (
        "card **************** ok"
    )
    kept = ScrubConfig(operator="mask", keep_last=4, mask_char="#")
    assert Scrubber(SECRET, config=kept).apply(text, f).text == "card ############7020 ok"


def test_keyed_hash_depends_on_the_secret_and_not_on_formatting() -> None:
    other = "fedcba9876543210fedcba9876543210"
    assert keyed_hash(SECRET, "PHONE_NUMBER", "(555) 123-4567") == keyed_hash(
        SECRET, "PHONE_NUMBER", "555.123.4567"
    )
    assert keyed_hash(SECRET, "US_SSN", "531-21-7351") != keyed_hash(other, "US_SSN", "531-21-7351")
    # Not a plain digest anyone could compute from a dictionary of values.
    for plain in ("531-21-7351", "531217351"):
        assert (
            keyed_hash(SECRET, "US_SSN", "531-21-7351")
            != hashlib.sha256(plain.encode()).hexdigest()
        )
    text = "ssn 531-21-7351"
    out = Scrubber(SECRET, config=ScrubConfig(operator="hash", hash_length=10)).apply(
        text, [finding(text, "531-21-7351", "US_SSN")]
    )
    assert out.text == f"ssn <US_SSN:{keyed_hash(SECRET, 'US_SSN', '531-21-7351')[:10]}>"


def test_short_secret_is_refused() -> None:
    with pytest.raises(PiiConfigError, match="at least 16 bytes"):
        Scrubber("short")
    assert len(bytes.fromhex(new_project_secret())) == 32


def test_fake_surrogates_keep_kind_and_format_and_are_consistent() -> None:
    text = (
        "Anna Berg (anna@example.org, +1 (555) 123-4567) paid with 4532 2766 4457 7020 "
        "from GB82 WEST 1234 5698 7654 32; SSN 531-21-7351; IP 58.74.121.78."
    )
    values = {
        "Anna Berg": "PERSON",
        "anna@example.org": "EMAIL_ADDRESS",
        "+1 (555) 123-4567": "PHONE_NUMBER",
        "4532 2766 4457 7020": "CREDIT_CARD",
        "GB82 WEST 1234 5698 7654 32": "IBAN_CODE",
        "531-21-7351": "US_SSN",
        "58.74.121.78": "IP_ADDRESS",
    }
    fs = [finding(text, v, t) for v, t in values.items()]
    scrubber = Scrubber(SECRET, config=ScrubConfig(operator="fake"))
    out = scrubber.apply(text, fs)
    new = {r.entity_type: out.text[r.new_start : r.new_end] for r in out.replacements}
    for original, entity in values.items():
        assert new[entity] != original
        assert original not in out.text
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z'-]+", new["PERSON"])
    assert re.fullmatch(r"[^@\s]+@[\w.-]+\.[a-z]{2,}", new["EMAIL_ADDRESS"])
    # The phone keeps every separator where it was; only digits change.
    assert re.sub(r"\d", "0", new["PHONE_NUMBER"]) == "+0 (000) 000-0000"
    assert re.sub(r"\d", "0", new["CREDIT_CARD"]) == "0000 0000 0000 0000"
    assert luhn_is_valid(new["CREDIT_CARD"]) and new["CREDIT_CARD"][0] == "4"
    assert iban_is_valid(new["IBAN_CODE"]) and new["IBAN_CODE"].startswith("GB")
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", new["US_SSN"])
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", new["IP_ADDRESS"])
    # Same value, another example and another scrubber with the same secret: same surrogate.
    text2 = "Later: Anna Berg wrote again."
    again = Scrubber(SECRET, config=ScrubConfig(operator="fake")).apply(
        text2, [finding(text2, "Anna Berg", "PERSON")]
    )
    assert again.text == f"Later: {new['PERSON']} wrote again."


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=15, max_size=18))
def test_card_surrogates_always_pass_luhn(digits: list[int]) -> None:
    number = "4" + "".join(map(str, digits))
    text = f"card {number}"
    out = Scrubber(SECRET, config=ScrubConfig(operator="fake")).apply(
        text, [finding(text, number, "CREDIT_CARD")]
    )
    fake = out.text[5:]
    assert luhn_is_valid(fake) and len(fake) == len(number) and fake != number


def test_per_entity_operators_and_overlaps_merge() -> None:
    text = "Mail Anna Berg at anna.berg@example.org"
    fs = [
        finding(text, "Anna Berg", "PERSON"),
        finding(text, "anna.berg@example.org", "EMAIL_ADDRESS", score=1.0),
        finding(text, "anna.berg", "PERSON", score=0.5),  # inside the email: one region
    ]
    config = ScrubConfig(operator="placeholder", per_entity={"EMAIL_ADDRESS": "mask"})
    out = Scrubber(SECRET, config=config).apply(text, fs)
    assert out.text == "Mail <PERSON> at " + "*" * len("anna.berg@example.org")
    assert [r.entity_type for r in out.replacements] == ["PERSON", "EMAIL_ADDRESS"]
    assert len(out.replacements[1].finding_ids) == 2


def test_replacement_positions_point_into_both_texts() -> None:
    out = Scrubber(SECRET, config=ScrubConfig(operator="numbered")).apply(TURN_1, FINDINGS_1)
    for r, f in zip(out.replacements, FINDINGS_1, strict=True):
        assert (r.start, r.end) == (f.start, f.end)
        assert out.text[r.new_start : r.new_end] == f"<{f.entity_type}_1>"


def test_findings_of_another_text_are_refused() -> None:
    with pytest.raises(PiiConfigError, match="another version"):
        Scrubber(SECRET).apply(TURN_2, FINDINGS_1)


def test_bad_operator_names_the_choices() -> None:
    with pytest.raises(PiiConfigError, match="unknown operator 'shuffle'"):
        ScrubConfig(operator="shuffle")


# ---------------------------------------------------------------- residual scan


def test_residual_scan_after_scrubbing() -> None:
    scanner = PiiScanner(entities=["EMAIL_ADDRESS", "PHONE_NUMBER"], config=PiiConfig(workers=1))
    texts = ["Write to anna@example.org or call 212-555-0143.", "Nothing here."]
    found = scanner.scan(texts)
    assert [len(f) for f in found] == [2, 0]
    partial = Scrubber(SECRET, config=ScrubConfig(operator="numbered")).apply_many(
        texts, [found[0][:1], []]
    )
    residual = residual_findings(scanner, [p.text for p in partial])
    assert [[(f.entity_type) for f in fs] for fs in residual] == [["PHONE_NUMBER"], []]
    full = Scrubber(SECRET, config=ScrubConfig(operator="numbered")).apply_many(texts, found)
    assert residual_findings(scanner, [p.text for p in full]) == [[], []]


# ---------------------------------------------------------------- nothing raw is persisted


def test_persisted_records_carry_no_raw_values() -> None:
    raw = ["Anna Berg", "anna@example.org", "(555) 123-4567", "5551234567", "555-987-6543",
           "5559876543", "anna", "berg"]  # fmt: skip
    scanner = PiiScanner(config=PiiConfig(workers=1))
    cache = scanner.cache
    found = scanner.scan([TURN_1, TURN_2])
    persisted: list[object] = [
        [f.to_dict() for fs in found for f in fs],
        cache.to_dict(),
        scanner.config.to_dict(),
    ]
    for op in ("placeholder", "numbered", "mask", "hash", "fake"):
        scrubber = Scrubber(SECRET, config=ScrubConfig(operator=op))
        results = scrubber.apply_many([TURN_1, TURN_2], found)
        assert all("Anna Berg" not in r.text for r in results)
        persisted += [r.record() for r in results]
        persisted.append(scrubber.mapping.to_dict())
    blob = json.dumps(persisted).lower()
    for value in raw:
        assert value.lower() not in blob, value
    assert isinstance(FindingCache.from_dict(json.loads(json.dumps(cache.to_dict()))), FindingCache)
