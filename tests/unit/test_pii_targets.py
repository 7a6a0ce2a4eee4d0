"""Scan targets of examples (turns by role, tool calls, metadata incl. preference candidates)
and scrubbed texts going back into a copy of the example.
"""

from __future__ import annotations

import pytest

from curation.errors import PiiConfigError
from curation.pii import PiiConfig, PiiScanner
from curation.pii.operators import Scrubber, ScrubConfig
from curation.pii.targets import apply_scrubbed, scan_examples, scan_targets
from curation.records import Example, Message

SECRET = "0123456789abcdef0123456789abcdef"


def example() -> Example:
    return Example(
        id="ex-1",
        messages=[
            Message("system", "You are a helpful assistant."),
            Message("user", "Email anna@example.org about the invoice."),
            Message("assistant", "", tool_calls='[{"function": {"arguments": "{\\"to\\": \\"anna@example.org\\"}"}}]'),
            Message("assistant", "Done, I wrote to anna@example.org."),
        ],
        metadata={"lang": "en", "notes": "forwarded by bob@example.org",
                  "candidates": [{"content": "Mail sent to anna@example.org"}, {"content": "No."}]},
    )  # fmt: skip


def test_targets_cover_turns_tool_calls_and_metadata() -> None:
    locations = [t.location for t in scan_targets([example()])]
    assert locations == [
        "messages[0].content",
        "messages[1].content",
        "messages[2].tool_calls",
        "messages[3].content",
        "metadata.notes",
        "metadata.candidates[0].content",
        "metadata.candidates[1].content",
    ]
    user_only = scan_targets([example()], roles=["user"], include_metadata=False)
    assert [(t.location, t.role) for t in user_only] == [("messages[1].content", "user")]
    with pytest.raises(PiiConfigError, match="unknown roles"):
        scan_targets([example()], roles=["human"])


def test_scrubbed_texts_go_back_into_a_copy_with_one_number_per_person() -> None:
    ex = example()
    scanner = PiiScanner(entities=["EMAIL_ADDRESS"], config=PiiConfig(workers=1))
    scrubber = Scrubber(SECRET, config=ScrubConfig(operator="numbered"))
    results = {
        target.location: scrubber.apply(target.text, findings, json_string=target.is_json)
        for target, findings in scan_examples(scanner, [ex])
        if findings
    }
    new = apply_scrubbed(ex, results)
    assert new.messages[1].content == "Email <EMAIL_ADDRESS_1> about the invoice."
    assert (
        new.messages[2].tool_calls is not None and "<EMAIL_ADDRESS_1>" in new.messages[2].tool_calls
    )
    assert new.messages[3].content == "Done, I wrote to <EMAIL_ADDRESS_1>."
    assert new.metadata["notes"] == "forwarded by <EMAIL_ADDRESS_2>"
    assert new.metadata["candidates"][0]["content"] == "Mail sent to <EMAIL_ADDRESS_1>"
    assert ex.messages[1].content == "Email anna@example.org about the invoice."  # untouched
    # A text edited since the scan is refused rather than overwritten.
    ex.messages[1].content = "Email carol@example.org instead."
    with pytest.raises(PiiConfigError, match="changed at 'messages\\[1\\].content'"):
        apply_scrubbed(ex, results)


def test_surrogates_inside_tool_call_json_keep_it_valid() -> None:
    import json

    from curation.pii import Finding, text_sha256

    # A multi-line address gets a multi-line surrogate; the arguments are JSON inside JSON.
    value = "39 Argyll Road\nNoorderwijk 76970"
    args = json.dumps({"ship_to": value, "note": 'say "hi"'})
    calls = json.dumps([{"type": "function", "function": {"name": "ship", "arguments": args}}])
    encoded = json.dumps(json.dumps(value))[3:-3]  # how the value is written in `calls`
    start = calls.index(encoded)
    f = Finding(start, start + len(encoded), "STREET_ADDRESS", 0.9, "test", text_sha256(calls))
    scrubber = Scrubber(SECRET, config=ScrubConfig(operator="fake"))
    out = scrubber.apply(calls, [f], json_string=True)
    decoded = json.loads(json.loads(out.text)[0]["function"]["arguments"])
    assert decoded["note"] == 'say "hi"'
    assert decoded["ship_to"] and "Argyll" not in decoded["ship_to"]
    # A multi-line value gets a multi-line surrogate; in JSON mode it is written on one line.
    text = "Ship to:\n39 Argyll Road\nNoorderwijk 76970"
    g = Finding(9, len(text), "STREET_ADDRESS", 0.9, "test", text_sha256(text))
    as_text = scrubber.apply(text, [g]).text[9:]
    as_json = scrubber.apply(text, [g], json_string=True).text[9:]
    assert "\n" in as_text.strip()
    assert "\n" not in as_json and '"' not in as_json and "\\" not in as_json
    assert as_json == ", ".join(line.strip() for line in as_text.splitlines())
