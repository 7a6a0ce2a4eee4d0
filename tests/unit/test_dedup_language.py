"""Unit tests of offline language detection and what dedup and export do with it: the English
model warning, the multilingual model choice and the dataset card's `language:` list.

Texts are real sentences (Alpaca instructions, the Universal Declaration of Human Rights).
"""

from __future__ import annotations

import json
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml

from curation.dedup.semantic import (
    EMBEDDING_MODELS_ENV,
    choose_embedding_model,
    embedding_models,
    semantic_language_warning,
)
from curation.export.card import CardInfo, build_card
from curation.records import Example, Message
from curation.text import detect_language, detect_languages, language_profile
from curation.text.language import LanguageProfile

CHINESE = [
    line.strip()
    for line in (Path(__file__).parent / "data" / "chinese_sentences.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
]
# Article 1 of the Universal Declaration of Human Rights, official translations.
UDHR_1 = {
    "fr": "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont "
    "doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit "
    "de fraternité.",
    "de": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft "
    "und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.",
    "es": "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como "
    "están de razón y conciencia, deben comportarse fraternalmente los unos con los otros.",
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены "
    "разумом и совестью и должны поступать в отношении друг друга в духе братства.",
    "ja": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。",
    "ko": "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다.",
}


def _alpaca_instructions(shared_data: Path, n: int) -> list[str]:
    rows = json.loads((shared_data / "llamafactory" / "alpaca_en_demo.json").read_text())
    return [r["instruction"] for r in rows if len(r["instruction"].split()) >= 6][:n]


def test_english_instructions_are_english(shared_data: Path) -> None:
    texts = _alpaca_instructions(shared_data, 200)
    found = detect_languages(texts)
    english = sum(1 for code, conf in found if code == "en" and conf >= 0.5)
    assert english >= 0.97 * len(texts)


def test_chinese_and_other_languages() -> None:
    assert all(detect_language(s)[0] == "zh" for s in CHINESE)
    for code, text in UDHR_1.items():
        got, confidence = detect_language(text)
        assert got == code, (code, got)
        assert confidence >= 0.5


def test_text_without_letters_is_undetermined_and_bad_input_named() -> None:
    assert detect_language("") == ("und", 0.0)
    assert detect_language("12 + 30 = 42 !!") == ("und", 0.0)
    with pytest.raises(ValueError, match="must be str"):
        detect_language(None)  # type: ignore[arg-type]


def test_profile_counts_shares_and_main_language() -> None:
    texts = CHINESE[:6] + [UDHR_1["fr"], UDHR_1["de"], "…", ""]
    profile = language_profile(texts)
    assert profile.counts == {"zh": 6, "und": 2, "de": 1, "fr": 1}
    assert profile.main == "zh"
    assert profile.determined == 8
    assert profile.share("zh") == pytest.approx(6 / 8)
    assert profile.languages(min_share=0.2) == ["zh"]
    assert profile.non_english_share() == pytest.approx(1.0)
    assert LanguageProfile.from_dict(profile.to_dict()) == profile


def test_english_model_on_chinese_text_is_warned_about() -> None:
    chinese = language_profile(CHINESE)
    english = LanguageProfile({"en": 30}, 30)
    backend = "sentence-transformers:all-MiniLM-L6-v2"
    warning = semantic_language_warning(chinese, backend)
    assert warning is not None and "zh 100%" in warning and "English-only" in warning
    assert semantic_language_warning(english, backend) is None
    # Lexical backends compare characters and words: no warning for them.
    assert semantic_language_warning(chinese, "tfidf-word+char-fallback") is None


def test_a_listed_multilingual_folder_is_chosen_for_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if find_spec("sentence_transformers") is None:
        pytest.skip("needs the semantic extra (sentence-transformers), which make installs")
    folder = tmp_path / "paraphrase-multi-mini"
    folder.mkdir()
    (folder / "README.md").write_text("---\nlanguage:\n- en\n- zh\n- de\ntags: [x]\n---\n# m\n")
    english_only = tmp_path / "my-english-model"
    english_only.mkdir()
    monkeypatch.setenv(EMBEDDING_MODELS_ENV, f"{english_only}:{folder}:{tmp_path / 'missing'}")
    names = [m.name for m in embedding_models()]
    assert names[-2:] == ["my-english-model", "paraphrase-multi-mini"]
    chosen = choose_embedding_model(["zh", "en"])
    assert chosen is not None and chosen.name == "paraphrase-multi-mini" and chosen.multilingual
    english = choose_embedding_model(["en"])
    assert english is not None and english.name == names[0] and not english.multilingual
    assert (
        semantic_language_warning(
            language_profile(CHINESE), "sentence-transformers:paraphrase-multi-mini"
        )
        is None
    )
    assert (
        semantic_language_warning(
            language_profile(CHINESE), "sentence-transformers:my-english-model"
        )
        is not None
    )


def _card_front(train: list[Example], info: CardInfo | None = None) -> dict:
    card = build_card(
        train,
        [],
        preset="openai",
        data_files={"train": "train.jsonl"},
        curation_stats={},
        card_info=info,
    )
    return yaml.safe_load(card.split("---")[1])


def test_card_lists_the_detected_languages() -> None:
    zh = [
        Example(f"z{i}", [Message("user", s), Message("assistant", s)])
        for i, s in enumerate(CHINESE)
    ]
    fr = [Example("f", [Message("user", UDHR_1["fr"]), Message("assistant", "D'accord.")])]
    assert _card_front(zh)["language"] == ["zh"]
    assert _card_front(zh[:10] + fr * 2)["language"] == ["zh", "fr"]
    assert _card_front(zh, CardInfo(language=["en", "zh"]))["language"] == ["en", "zh"]
