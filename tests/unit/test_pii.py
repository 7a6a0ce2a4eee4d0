"""Detection tests on real presidio and spaCy: known answers per recognizer, checksum vetoes,
allow list, custom recognizers from configuration, entity selection, cache, workers, offline.

Expected spans are written by hand from the test texts, never computed by the code under test.
"""

from __future__ import annotations

import json
import socket

import pytest

from curation.errors import PiiConfigError
from curation.pii import Finding, FindingCache, PiiConfig, PiiScanner, text_sha256
from curation.pii.engine import build_engine


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    return PiiScanner(config=PiiConfig(workers=1))


def found(scanner: PiiScanner, text: str) -> set[tuple[str, str]]:
    """(entity type, covered text) of every finding."""
    return {(f.entity_type, text[f.start : f.end]) for f in scanner.scan([text])[0]}


def types_of(scanner: PiiScanner, text: str, value: str) -> set[str]:
    return {t for t, v in found(scanner, text) if v == value}


# ---------------------------------------------------------------- known answers per recognizer


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Write to ana.berg@example.org today.", "EMAIL_ADDRESS", "ana.berg@example.org"),
        ("Call me on (07) 5331 0577 tomorrow.", "PHONE_NUMBER", "(07) 5331 0577"),
        ("Fax: +49(0)0575668282", "PHONE_NUMBER", "+49(0)0575668282"),
        ("My card 4532276644577020 was charged twice.", "CREDIT_CARD", "4532276644577020"),
        ("Card 2720624595711773 (Mastercard 2-series).", "CREDIT_CARD", "2720624595711773"),
        ("Wire it to GB82WEST12345698765432 please.", "IBAN_CODE", "GB82WEST12345698765432"),
        ("His social security number is 531-21-7351", "US_SSN", "531-21-7351"),
        ("The server at 58.74.121.78 refused.", "IP_ADDRESS", "58.74.121.78"),
        ("My driver's license number is 481195160", "US_DRIVER_LICENSE", "481195160"),
    ],
)
def test_identifiers_known_answers(scanner: PiiScanner, text: str, entity: str, value: str) -> None:
    assert entity in types_of(scanner, text, value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # Luhn-invalid: last digit changed from 0 to 1.
        ("My card 4532276644577021 was charged twice.", "4532276644577021"),
        # mod-97-invalid: the check digits 82 changed to 83.
        ("Wire it to GB83WEST12345698765432 please.", "GB83WEST12345698765432"),
    ],
)
def test_checksums_veto_false_hits(scanner: PiiScanner, text: str, value: str) -> None:
    assert not any(value in v or v in value for _, v in found(scanner, text) if len(v) > 6)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Please ship it to 1755 Nelson Mandela Drive, Springfield 62704.",
         "1755 Nelson Mandela Drive, Springfield 62704"),
        ("The bus station is on Ziegelgasse 26", "Ziegelgasse 26"),
        ("How do I change my address to 48 rue Descartes, Lyon, France for mail?",
         "48 rue Descartes, Lyon, France"),
        ("Return it to\n39 Argyll Road\nNoorderwijk\n Portugal 76970\nThanks!",
         "39 Argyll Road\nNoorderwijk\n Portugal 76970"),
        ("Shelby lives at 87 Jakobi 69, Laane", "87 Jakobi 69, Laane"),
        ("Michael Urner\n11 Školní 939\n Apt. 827\n Kaplice\n Iceland 80392",
         "11 Školní 939\n Apt. 827\n Kaplice\n Iceland 80392"),
    ],
)  # fmt: skip
def test_street_addresses_with_their_lines(scanner: PiiScanner, text: str, address: str) -> None:
    assert ("STREET_ADDRESS", address) in found(scanner, text)


@pytest.mark.parametrize(
    "text",
    [
        "In the first place, use 3 cups of flour and 2 eggs.",
        "Send it via email to the team by 5 pm.",
        "Chapter 12 covers the history of Rome in 3 parts.",
    ],
)
def test_prose_with_numbers_is_not_an_address(scanner: PiiScanner, text: str) -> None:
    assert not any(t == "STREET_ADDRESS" for t, _ in found(scanner, text))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi Anna,\nthe report is attached.", "Anna"),
        ("Can you review it?\n\nThanks,\nJohn", "John"),
        ("Please fix it before Monday.\n-- Marta Kowalska", "Marta Kowalska"),
        ("Please have the manager call me, I'd like to join accounts with ms. Kuyra", "Kuyra"),
        ("Sometimes people call me Roland", "Roland"),
        ("She was born in 1986. Her maiden name is Vestergaard", "Vestergaard"),
        ("Marisca, can I please speak to your boss?", "Marisca"),
        ("Dear Mick van Es-Sanders, your order shipped.", "Mick van Es-Sanders"),
    ],
)
def test_names_in_greetings_signatures_and_introductions(
    scanner: PiiScanner, text: str, name: str
) -> None:
    assert ("PERSON", name) in found(scanner, text)


@pytest.mark.parametrize(
    "text",
    [
        "Hi there,\nthe build is green.",
        "Thanks,\nThe Support Team",
        "However, can I use a list here?",
        "Honestly, can you make it shorter?",
        "Anyway, could you sort the list?",
    ],
)
def test_greeting_words_and_teams_are_not_names(scanner: PiiScanner, text: str) -> None:
    assert not any(t == "PERSON" for t, _ in found(scanner, text))


@pytest.mark.parametrize(
    ("text", "secret", "rule"),
    [
        ("token: ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", "github-token"),
        ("aws key AKIAIOSFODNN7EXAMPLE in the script", "AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
        ('config = {"api_key": "Zx81kLq0Pw93MvTr55Ha"}', "Zx81kLq0Pw93MvTr55Ha", "assignment"),
        ("my password: hunter2hunter", "hunter2hunter", "assignment"),
        ("the bearer token is 9fKq2LmZ0xW7pRtY4vNs8bUc3eHd", "9fKq2LmZ0xW7pRtY4vNs8bUc3eHd", None),
    ],
)  # fmt: skip
def test_secrets_known_formats_and_context(
    scanner: PiiScanner, text: str, secret: str, rule: str | None
) -> None:
    hits = [f for f in scanner.scan([text])[0] if f.entity_type == "SECRET"]
    assert [text[f.start : f.end] for f in hits] == [secret]
    if rule is not None:
        assert hits[0].pattern == rule


@pytest.mark.parametrize(
    "text",
    [
        'api_key = "<your-api-key>"',
        "token: xxxxxxxxxxxxxxxxxxxxxxxx",
        "The token of appreciation was internationalization.",
        "export API_KEY=${OPENAI_API_KEY}",
    ],
)
def test_secret_placeholders_and_words_are_not_secrets(scanner: PiiScanner, text: str) -> None:
    assert not any(t == "SECRET" for t, _ in found(scanner, text))


# ---------------------------------------------------------------- findings carry what review needs


def test_finding_fields_and_stable_id(scanner: PiiScanner) -> None:
    text = "Write to ana.berg@example.org today."
    (f,) = [f for f in scanner.scan([text])[0] if f.entity_type == "EMAIL_ADDRESS"]
    assert (f.start, f.end) == (9, 29)
    assert f.recognizer == "EmailRecognizer"
    assert f.text_sha256 == text_sha256(text)
    assert 0.4 <= f.score <= 1.0
    again = Finding.from_dict(json.loads(json.dumps(f.to_dict())))
    assert again == f and again.id == f.id


def test_score_threshold_drops_weak_findings() -> None:
    text = "Greetings from Paris, said Anna Schmidt."
    strict = PiiScanner(
        entities=["PERSON", "LOCATION"], score_threshold=0.9, config=PiiConfig(workers=1)
    )
    assert strict.scan([text]) == [[]]  # NER scores 0.85


# ---------------------------------------------------------------- allow list and custom recognizers


def test_allow_list_keeps_known_safe_terms() -> None:
    text = "Contact support@acme.example or Anna Schmidt."
    config = PiiConfig(allow_list=("SUPPORT@acme.example",), workers=1)
    values = {text[f.start : f.end] for f in PiiScanner(config=config).scan([text])[0]}
    assert "support@acme.example" not in values
    assert "Anna Schmidt" in values


def test_custom_recognizer_from_configuration() -> None:
    config = PiiConfig.from_dict(
        {
            "recognizers": [
                {
                    "name": "Employee ids",
                    "supported_entity": "EMPLOYEE_ID",
                    "patterns": [{"name": "emp-weak", "regex": r"\bE\d{6}\b", "score": 0.1}],
                    "context": ["employee"],
                },
                {
                    "name": "Project names",
                    "supported_entity": "CODENAME",
                    "deny_list": ["Bluebird", "Nightjar"],
                },  # fmt: skip
            ]
        },
        workers=1,
    )
    assert {"EMPLOYEE_ID", "CODENAME"} <= set(config.entities)
    s = PiiScanner(config=config)
    with_context = "The employee number is E123456."
    without = "Order E123456 shipped."
    assert ("EMPLOYEE_ID", "E123456") in found(s, with_context)
    assert not any(t == "EMPLOYEE_ID" for t, _ in found(s, without))  # 0.1 < 0.4 without context
    assert ("CODENAME", "Nightjar") in found(s, "Project Nightjar starts in May.")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"recognizers": [{"name": "x", "supported_entity": "X_ID",
                           "patterns": [{"name": "p", "regex": "([a-z", "score": 0.5}]}]},
         "invalid regex"),
        ({"recognizers": [{"name": "x", "supported_entity": "lower", "deny_list": ["a"]}]},
         "upper-case"),
        ({"recognizers": [{"name": "x", "supported_entity": "X_ID"}]}, "patterns or a deny_list"),
        ({"entities": ["PERSON", "SHOE_SIZE"]}, "SHOE_SIZE"),
        ({"score_threshold": 2}, "score_threshold"),
        ({"colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_bad_configuration_names_the_bad_value(config: dict, message: str) -> None:
    with pytest.raises(PiiConfigError, match=message):
        PiiConfig.from_dict(config)


def test_config_round_trip_and_hash() -> None:
    config = PiiConfig.from_dict({"allow_list": ["Acme"], "score_threshold": 0.5})
    again = PiiConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again.config_hash() == config.config_hash()
    assert PiiConfig().config_hash() != config.config_hash()
    # Run settings do not change findings, so they do not change the hash.
    assert PiiConfig(workers=1).config_hash() == PiiConfig(workers=2).config_hash()


# ---------------------------------------------------------------- speed features


def test_only_selected_entities_are_loaded_and_ner_is_skipped() -> None:
    engine = build_engine(PiiConfig(entities=("EMAIL_ADDRESS", "CREDIT_CARD")))
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert names == {"EmailRecognizer", "CreditCardRecognizer"}
    assert "ner" not in engine.nlp_engine.nlp["en"].pipe_names
    full = build_engine(PiiConfig())
    assert "ner" in full.nlp_engine.nlp["en"].pipe_names


def test_cache_scans_only_changed_texts_and_round_trips() -> None:
    cache = FindingCache()
    s = PiiScanner(entities=["EMAIL_ADDRESS"], config=PiiConfig(workers=1), cache=cache)
    texts = ["a@example.org here", "nothing", "b@example.org there", "nothing"]
    first = s.scan(texts)
    assert cache.misses == 3 and len(cache) == 3  # the repeated text is scanned once
    restored = FindingCache.from_dict(json.loads(json.dumps(cache.to_dict())))
    s2 = PiiScanner(entities=["EMAIL_ADDRESS"], config=PiiConfig(workers=1), cache=restored)
    changed = [texts[0], "c@example.org new", texts[2], texts[3]]
    second = s2.scan(changed)
    assert restored.misses == 1 and restored.hits == 3
    assert second[0] == first[0] and second[2] == first[2]
    assert [changed[1][f.start : f.end] for f in second[1]] == ["c@example.org"]


def test_progress_reports_stages() -> None:
    calls: list[tuple[str, int, int]] = []
    s = PiiScanner(entities=["EMAIL_ADDRESS"], config=PiiConfig(workers=1, chunk_size=2))
    s.scan(
        [f"u{i}@example.org" for i in range(5)],
        progress=lambda u: calls.append((u.stage, u.done, u.total)),
    )
    scan = [c for c in calls if c[0] == "scan"]
    assert scan[0] == ("scan", 0, 5) and scan[-1] == ("scan", 5, 5)
    assert [d for _, d, _ in scan] == sorted(d for _, d, _ in scan)
    assert ("cache", 5, 5) in calls


def test_worker_processes_give_the_same_findings(scanner: PiiScanner) -> None:
    texts = [
        "Hi Anna,\nplease call 212-555-0143 or write to anna@example.org.\nThanks,\nJohn Miller",
        "Ship to 1755 Nelson Mandela Drive, Springfield 62704.",
        "Card 4532276644577020, token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
    ] * 4
    with PiiScanner(config=PiiConfig(workers=2, parallel_min_texts=1, chunk_size=3)) as pooled:
        assert pooled.scan(texts) == scanner.scan(texts)


def test_non_text_input_is_refused(scanner: PiiScanner) -> None:
    with pytest.raises(PiiConfigError, match=r"texts\[1\] is int"):
        scanner.scan(["fine", 3])  # type: ignore[list-item]


# ---------------------------------------------------------------- offline


def test_whole_scan_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # A fresh engine: model loading, the suffix list and every recognizer run with sockets blocked.
    from curation.pii.recognizers.custom import offline_tld_extractor

    offline_tld_extractor.cache_clear()
    s = PiiScanner(config=PiiConfig(workers=1))
    text = "Write to lea.lind@superrito.co.uk or anna@example.org, Anna Schmidt."
    values = {text[f.start : f.end] for f in s.scan([text])[0] if f.entity_type == "EMAIL_ADDRESS"}
    assert values == {"lea.lind@superrito.co.uk", "anna@example.org"}
    assert attempts == []
