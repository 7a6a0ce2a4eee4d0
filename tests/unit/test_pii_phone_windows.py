"""presidio's phone recognizer run on the digit windows of a text finds what it finds on the
whole text, at the same offsets (the windows are a speed-up, never a change of answer)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from curation.pii.engine import _phone_windows, _scan_windows

TEXTS = [
    "Call me on 212-555-0187 tomorrow.",
    "Office: +44 20 7946 0958, mobile (415) 555-2671 ext. 12, fax 0049 30 901820.",
    "Order 12345 shipped; ref A1234567B; phone+1-202-555-0143x77 after 5pm.",
    "No numbers here at all, only words and an address on Main Street.",
    "1234567 at the very start and at the very end 020 7946 0958",
    "Dates 2024-03-12 and 12/03/2024, a price of $1,299.99 and +33 1 42 68 53 00 in Paris.",
    "Two close numbers 555-0187 555-0199 and a long one 4111 1111 1111 1111.",
    "color: #333333; width: 12345px; zip 90210 and code 4455.",
    "Mixed: tel.+49(0)30-901820-0, Rufnummer 030 901820, and call 98765 43210 (India).",
]


def _spans(results: list) -> list[tuple[int, int, str, float]]:  # type: ignore[type-arg]
    return sorted((r.start, r.end, r.entity_type, r.score) for r in results)


def test_windows_hold_every_run_of_seven_digits_and_merge_when_close() -> None:
    text = "a 555-0187 b 555-0199 " + "x" * 80 + " 12 34"  # 4 digits: no window
    windows = _phone_windows(text)
    assert len(windows) == 1  # the two numbers share one window
    start, end = windows[0]
    assert start == 0 and text[start:end].startswith("a 555-0187 b 555-0199")
    assert _phone_windows("no digits") == []


def test_windowed_recognizer_finds_exactly_what_the_whole_text_scan_finds() -> None:
    whole = PhoneRecognizer(supported_regions=("US", "GB", "DE", "FR", "IL", "IN", "BR"))
    windowed = _scan_windows(
        PhoneRecognizer(supported_regions=("US", "GB", "DE", "FR", "IL", "IN", "BR")).analyze
    )
    found_any = 0
    for text in TEXTS:
        expected = _spans(whole.analyze(text, ["PHONE_NUMBER"]))
        assert _spans(windowed(text, ["PHONE_NUMBER"])) == expected, text
        found_any += bool(expected)
    assert found_any >= 5  # the texts do hold numbers the recognizer finds
