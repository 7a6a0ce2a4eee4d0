"""Builds the presidio analyzer for a `PiiConfig`: offline spaCy engine, only needed recognizers.

The spaCy pipeline loads without its parser (and without NER when no selected entity needs
it), never downloads a model, and the email recognizer validates domains offline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, Pattern, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, PhoneRecognizer
from spacy.tokens import Doc

from curation.errors import PiiConfigError
from curation.pii.config import PiiConfig
from curation.pii.recognizers.address import PostalCodeRecognizer, StreetAddressRecognizer
from curation.pii.recognizers.custom import OfflineEmailRecognizer, build_custom_recognizer
from curation.pii.recognizers.names import NER_ENTITIES, ContextNameRecognizer, SpacyNerRecognizer
from curation.pii.recognizers.phone import ContextPhoneRecognizer
from curation.pii.recognizers.secrets import SecretRecognizer

__all__ = ["PiiEngine", "build_engine", "needs_ner"]

# presidio's predefined recognizers we keep (the rest are replaced or not used by any entity).
_PRESIDIO_KEEP = {
    "CreditCardRecognizer",
    "UsBankRecognizer",
    "UsLicenseRecognizer",
    "UsItinRecognizer",
    "UsPassportRecognizer",
    "UsSsnRecognizer",
    "NhsRecognizer",
    "CryptoRecognizer",
    "IbanRecognizer",
    "IpRecognizer",
    "MedicalLicenseRecognizer",
    "MacAddressRecognizer",
    "UuidRecognizer",
    "PhoneRecognizer",
    "UrlRecognizer",
    "DateRecognizer",
}

# spaCy labels as presidio entity names (FAC counts as a place; the rest keep their label so
# the NER recognizer can re-type them, and presidio logs no "unmapped label" warning).
_LABELS = {
    "PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "FAC",
    "ORG": "ORGANIZATION", "NORP": "NRP", "DATE": "DATE_TIME", "TIME": "DATE_TIME",
    "PRODUCT": "PRODUCT", "WORK_OF_ART": "WORK_OF_ART", "EVENT": "EVENT",
}  # fmt: skip
_IGNORED_LABELS = ["CARDINAL", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT", "QUANTITY"]


_DIGIT = re.compile(r"\d")
# Texts a recognizer cannot match, told by a test far cheaper than its regexes: a phone needs
# 7 digits, a card 12, an email an "@". (phonenumbers alone is a third of presidio's time.)
_MIN_DIGITS = {
    "PhoneRecognizer": 7,
    "ContextPhoneRecognizer": 7,
    "CreditCardRecognizer": 12,
    "IbanRecognizer": 6,
    "UsSsnRecognizer": 9,
    "UsItinRecognizer": 9,
    "UsBankRecognizer": 8,
    "UsPassportRecognizer": 6,
    "UsLicenseRecognizer": 3,
    "NhsRecognizer": 10,
    "MedicalLicenseRecognizer": 7,
    "IpRecognizer": 1,
}
_NEEDS_CHAR = {"EmailRecognizer": "@"}


# Digits that phonenumbers' own pattern could join into one number (up to 4 punctuation
# characters between groups), and the characters kept on each side of such a run so the
# matcher still sees what it checks around a number (a letter before it, "ext. 12" after it).
_DIGIT_RUN = re.compile(r"\d(?:[\W_]{0,4}\d)*")
_WINDOW_MARGIN = 24


def _phone_windows(text: str) -> list[tuple[int, int]]:
    """Stretches of `text` that can hold a phone number: each run of 5+ digits (phonenumbers
    takes some short national numbers) with margins, overlapping stretches merged."""
    out: list[tuple[int, int]] = []
    for m in _DIGIT_RUN.finditer(text):
        if len(_DIGIT.findall(m.group())) < 5:
            continue
        start, end = max(0, m.start() - _WINDOW_MARGIN), min(len(text), m.end() + _WINDOW_MARGIN)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _scan_windows(analyze: Any) -> Any:
    """``analyze`` run on the phone windows of a text only, its results moved back into the
    whole text: phonenumbers then parses a few short stretches per region instead of the
    whole text seven times (it was the largest share of presidio's own time)."""

    def windowed(text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> Any:
        results = []
        for start, end in _phone_windows(text):
            for r in analyze(text[start:end], entities, nlp_artifacts):
                r.start += start
                r.end += start
                results.append(r)
        return EntityRecognizer.remove_duplicates(results)

    return windowed


def _skip_texts_that_cannot_match(recognizer: EntityRecognizer) -> None:
    name = _name_of(recognizer)
    min_digits = _MIN_DIGITS.get(name, 0)
    needs = _NEEDS_CHAR.get(name)
    if not min_digits and not needs:
        return
    analyze = _scan_windows(recognizer.analyze) if name == "PhoneRecognizer" else recognizer.analyze

    def guarded(text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> Any:
        if needs is not None and needs not in text:
            return []
        if min_digits and len(_DIGIT.findall(text)) < min_digits:
            return []
        return analyze(text, entities, nlp_artifacts)  # type: ignore[arg-type]

    recognizer.analyze = guarded  # type: ignore[method-assign]


def _name_of(recognizer: EntityRecognizer) -> str:
    return str(getattr(recognizer, "name", ""))


def needs_ner(entities: Iterable[str]) -> bool:
    """Whether any of `entities` is found by NER (so spaCy's NER component must run)."""
    return bool(set(entities) & set(NER_ENTITIES))


class _OfflineSpacyEngine(SpacyNlpEngine):
    """presidio's spaCy engine, loading an installed pipeline only (never downloading one)."""

    def __init__(self, model: str, *, with_ner: bool) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(_LABELS),
                labels_to_ignore=list(_IGNORED_LABELS),
                low_score_entity_names=[],
            ),
        )
        self._model = model
        self._with_ner = with_ner

    def load(self) -> None:
        import spacy

        # Only the tokenizer and NER run: the shared tok2vec, tagger, parser, attribute ruler
        # and lemmatizer are 55 % of the full pipeline's time and nothing here needs them
        # (NER has its own tok2vec; context words match lower-cased tokens where lemmas are
        # missing, see `_doc_to_nlp_artifact`).
        exclude = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
        if not self._with_ner:
            exclude.append("ner")
        try:
            nlp = spacy.load(self._model, exclude=exclude)
        except OSError as exc:
            installed = sorted(spacy.util.get_installed_models())
            raise PiiConfigError(
                f"spaCy pipeline {self._model!r} is not installed (installed: {installed}); "
                "install its package or choose one of those"
            ) from exc
        self.nlp = {"en": nlp}  # type: ignore[assignment]

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        artifacts = super()._doc_to_nlp_artifact(doc, language)
        # Without the lemmatizer, presidio's context enhancer compares context words with
        # lemmas: give it the lower-cased token ("license", "phone") instead of "".
        artifacts.lemmas = [t.lemma_ or t.lower_ for t in doc]
        artifacts.keywords = artifacts.set_keywords(self, artifacts.lemmas, language)
        return artifacts


class PiiEngine:
    """A loaded analyzer for one configuration: spaCy once, then many texts.

    Parameters
    ----------
    config:
        What to find; only recognizers for ``config.entities`` are registered.
    """

    def __init__(self, config: PiiConfig) -> None:
        self.config = config
        self.entities = list(config.entities)
        self.nlp_engine = _OfflineSpacyEngine(config.spacy_model, with_ner=needs_ner(self.entities))
        self.nlp_engine.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.recognizers = self._recognizers()
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=self.nlp_engine, supported_languages=["en"]
        )

    def _recognizers(self) -> list[EntityRecognizer]:
        wanted = set(self.entities)
        presidio = RecognizerRegistry(supported_languages=["en"])
        # Quiet: presidio logs every recognizer it loads.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        presidio.load_predefined_recognizers(languages=["en"])
        ours: list[EntityRecognizer] = [
            OfflineEmailRecognizer(),
            SpacyNerRecognizer(),
            ContextNameRecognizer(),
            StreetAddressRecognizer(),
            PostalCodeRecognizer(),
            SecretRecognizer(),
            ContextPhoneRecognizer(),
        ]
        ours.extend(build_custom_recognizer(c) for c in self.config.custom_recognizers)
        kept = [
            r
            for r in presidio.recognizers
            if _name_of(r) in _PRESIDIO_KEEP - {"CreditCardRecognizer"}
        ]
        # presidio's card patterns predate Mastercard's 2221-2720 range; same Luhn check.
        kept.append(
            CreditCardRecognizer(
                patterns=[
                    *CreditCardRecognizer.PATTERNS,
                    Pattern(
                        "Mastercard 2-series",
                        r"\b2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b",
                        0.3,
                    ),
                ]
            )
        )
        # presidio's default regions include "UK" and "FE", which phonenumbers does not know
        # (they only match +international numbers); GB and FR parse national formats too.
        kept = [r for r in kept if _name_of(r) != "PhoneRecognizer"]
        kept.append(PhoneRecognizer(supported_regions=("US", "GB", "DE", "FR", "IL", "IN", "BR")))
        kept += ours
        chosen = [r for r in kept if wanted & set(r.supported_entities)]
        for r in chosen:
            r.load()
            _skip_texts_that_cannot_match(r)
        return chosen

    def artifacts(self, texts: list[str]) -> Iterator[NlpArtifacts]:
        """spaCy over `texts` in batches (``nlp.pipe``), as presidio artifacts."""
        for item in self.nlp_engine.process_batch(
            texts, "en", batch_size=self.config.nlp_batch_size, n_process=1
        ):
            yield item[1]

    def analyze(self, text: str, artifacts: NlpArtifacts):  # type: ignore[no-untyped-def]
        """presidio's analysis of one text with its precomputed artifacts."""
        return self.analyzer.analyze(
            text,
            language="en",
            entities=self.entities,
            score_threshold=self.config.score_threshold,
            nlp_artifacts=artifacts,
            return_decision_process=True,
        )


def build_engine(config: PiiConfig) -> PiiEngine:
    """Load the analyzer for `config` (about 1-2 s: the spaCy pipeline and name lexicons)."""
    return PiiEngine(config)
