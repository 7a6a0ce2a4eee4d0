"""Labelled near-duplicate sets for the dedup benchmarks, built from the real data in shared/data.

Originals (real texts, then composites of real sentences to scale) plus seeded perturbed copies.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Share of words touched per lexical copy; all stay "near duplicates" (<= 12%).
STRENGTHS: dict[str, float] = {"light": 0.03, "medium": 0.07, "heavy": 0.12}
LEXICAL_OPS = ("substitute", "delete", "insert")
FORMAT_OPS = ("case", "punctuation", "whitespace")
MIN_WORDS = 8


def _read_json(rel: str) -> list[dict]:
    return json.loads((DATA_DIR / rel).read_text(encoding="utf-8"))


def _read_jsonl(rel: str) -> list[dict]:
    lines = (DATA_DIR / rel).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _join(*parts: object) -> str:
    return "\n\n".join(str(p) for p in parts if p)


def load_source_texts() -> list[tuple[str, str]]:
    """``(source, text)`` for every record of the real datasets, in file order."""
    out: list[tuple[str, str]] = []
    for rel in ("llamafactory/alpaca_en_demo.json", "llamafactory/identity.json"):
        out += [(rel, _join(r["instruction"], r["input"], r["output"])) for r in _read_json(rel)]
    rel = "dolly/random_selection_20_top_100.json"
    out += [(rel, _join(r["instruction"], r["context"], r["response"])) for r in _read_json(rel)]
    rel = "self-instruct/seed_tasks.jsonl"
    for r in _read_jsonl(rel):
        inst = r["instances"][0] if r["instances"] else {}
        out.append((rel, _join(r["instruction"], inst.get("input"), inst.get("output"))))
    rel = "fastchat/dummy_conversation.json"
    out += [(rel, _join(*(t["value"] for t in r["conversations"]))) for r in _read_json(rel)]
    rel = "llamafactory/glaive_toolcall_en_demo.json"
    out += [(rel, _join(*(t["value"] for t in r["conversations"]))) for r in _read_json(rel)]
    rel = "t0-prompt-completion/ag_news_classify.jsonl"
    out += [(rel, r["prompt"]) for r in _read_jsonl(rel)]
    rel = "openai-cookbook/dbpedia_samples.jsonl"
    out += [(rel, r["text"]) for r in _read_jsonl(rel)]
    rel = "presidio/generated_small.json"
    out += [(rel, r["full_text"]) for r in _read_json(rel)]
    for a, _b, _label in load_mrpc_rows():
        out.append(("mrpc/msr_paraphrase_train.txt#1", a))
    return out


def load_mrpc_rows() -> list[tuple[str, str, int]]:
    """``(sentence1, sentence2, quality)`` rows of the MRPC training file (1 = paraphrase)."""
    lines = (DATA_DIR / "mrpc" / "msr_paraphrase_train.txt").read_text(encoding="utf-8-sig")
    rows = []
    for line in lines.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 5:
            rows.append((parts[3], parts[4], int(parts[0])))
    return rows


def _unigram_sets_too_close(texts: list[str], limit: float) -> list[bool]:
    """True for each text whose word-set Jaccard with any earlier text is >= limit.

    Independent of the code under test (scikit-learn tokenisation, exact sparse products).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    x = CountVectorizer(binary=True, dtype=np.float32).fit_transform(texts).tocsr()
    sizes = np.asarray(x.sum(axis=1)).ravel()
    drop = np.zeros(len(texts), dtype=bool)
    block = 1000
    for start in range(0, len(texts), block):
        inter = (x[start : start + block] @ x.T).tocoo()
        rows = inter.row.astype(np.int64) + start
        cols = inter.col.astype(np.int64)
        union = sizes[rows] + sizes[cols] - inter.data
        close = (cols < rows) & (inter.data >= limit * union)
        drop[rows[close]] = True  # a later text close to any earlier one goes
    return drop.tolist()


def distinct_originals(limit: float = 0.5) -> list[str]:
    """Real texts with >= MIN_WORDS words, no two sharing >= `limit` of their word sets."""
    seen: set[str] = set()
    texts = []
    for _src, text in load_source_texts():
        key = " ".join(text.lower().split())
        if len(text.split()) >= MIN_WORDS and key not in seen:
            seen.add(key)
            texts.append(text)
    drop = _unigram_sets_too_close(texts, limit)
    return [t for t, d in zip(texts, drop, strict=True) if not d]


def sentence_pool(texts: list[str]) -> list[str]:
    """Sentences of 6+ words from the real texts, used to compose more originals."""
    pool: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for sent in re.split(r"(?<=[.!?])\s+|\n+", text):
            sent = sent.strip()
            if len(sent.split()) >= 6 and sent.lower() not in seen:
                seen.add(sent.lower())
                pool.append(sent)
    return pool


def perturb(
    text: str,
    strength: float | None,
    rng: random.Random,
    vocab: list[str],
    touches: int | None = None,
) -> tuple[str, bool]:
    """A copy with ``max(1, round(strength * words))`` edits; strength None = format-only edits.

    Lexical copies draw each edit from substitute / delete / insert / case / punctuation /
    whitespace; format-only copies only from case / punctuation / whitespace. Returns the copy
    and whether any lexical edit (substitute / delete / insert) was applied. `touches`, when
    given, is the number of edits instead.
    """
    words = text.split()
    n = len(words)
    if touches is None:
        touches = max(1, round((strength if strength is not None else 0.07) * n))
    if touches == 0 or n == 0:
        return text, False
    ops = FORMAT_OPS if strength is None else LEXICAL_OPS + FORMAT_OPS
    targets = rng.sample(range(n), min(touches, n))
    out: list[str | None] = list(words)
    inserts: dict[int, str] = {}
    lexical = False
    for pos in targets:
        op = rng.choice(ops)
        word = out[pos]
        if word is None:
            continue
        if op in LEXICAL_OPS and (op != "delete" or any(ch.isalnum() for ch in word)):
            lexical = True  # dropping a punctuation-only token changes no normalised word
        if op == "substitute":
            bare = "".join(ch for ch in word if ch.isalnum()).lower()
            out[pos] = rng.choice([w for w in rng.sample(vocab, 3) if w != bare])
        elif op == "delete":
            out[pos] = None
        elif op == "insert":
            inserts[pos] = rng.choice(vocab)
        elif op == "case":
            out[pos] = word.upper() if word.islower() else word.lower()
        elif op == "punctuation":
            out[pos] = word.rstrip(".,;:!?") if word[-1] in ".,;:!?" else word + rng.choice(",.;!")
        else:
            out[pos] = word + rng.choice(["  ", "\n", "\t"])
    pieces: list[str] = []
    for pos, word in enumerate(out):
        if pos in inserts:
            pieces.append(inserts[pos])
        if word is not None:
            pieces.append(word)
    return " ".join(pieces), lexical


@dataclass
class LabelledSet:
    """Texts with their duplicate group and how each was made.

    ``group[i]`` is the original's number; ``kind[i]`` is "original", "format" (case /
    punctuation / whitespace edits only) or a strength name from `STRENGTHS`.
    """

    texts: list[str]
    group: list[int]
    kind: list[str]
    stats: dict[str, int] = field(default_factory=dict)

    def near_truth(self) -> set[tuple[int, int]]:
        """Every pair of texts from the same original."""
        return _pairs_within(self.group, range(len(self.texts)))

    def exact_truth(self) -> set[tuple[int, int]]:
        """Pairs that are equal after normalisation by construction: original + format copies."""
        idx = [i for i, k in enumerate(self.kind) if k in ("original", "format")]
        return _pairs_within(self.group, idx)


def _pairs_within(group: list[int], indices: object) -> set[tuple[int, int]]:
    by_group: dict[int, list[int]] = {}
    for i in indices:  # type: ignore[attr-defined]
        by_group.setdefault(group[i], []).append(i)
    return {(a, b) for m in by_group.values() for k, a in enumerate(m) for b in m[k + 1 :]}


def build_near_set(size: int, seed: int = 0) -> LabelledSet:
    """About `size` texts: real originals first, composites of real sentences beyond them.

    Each original gets 0-3 copies (probabilities .45/.30/.17/.08); a copy is format-only with
    probability .2, else light / medium / heavy. Texts are shuffled.
    """
    rng = random.Random(seed)
    real = distinct_originals()
    rng.shuffle(real)
    pool = sentence_pool(real)
    vocab = sorted({w.strip(".,;:!?()\"'").lower() for t in real for w in t.split()})
    vocab = [w for w in vocab if w.isalnum()]
    texts: list[str] = []
    group: list[int] = []
    kind: list[str] = []
    n_orig = 0
    n_composite = 0
    while len(texts) < size:
        if n_orig < len(real):
            original = real[n_orig]
        else:
            original = " ".join(rng.sample(pool, rng.randint(2, 4)))
            n_composite += 1
        texts.append(original)
        group.append(n_orig)
        kind.append("original")
        copies = rng.choices([0, 1, 2, 3], weights=[45, 30, 17, 8])[0]
        for _ in range(min(copies, size - len(texts))):
            if rng.random() < 0.2:
                copy, _ = perturb(original, None, rng, vocab)
                kind.append("format")
            else:
                name = rng.choice(list(STRENGTHS))
                copy, lexical = perturb(original, STRENGTHS[name], rng, vocab)
                # A copy whose edits were all case / punctuation / whitespace is an exact dup.
                kind.append(name if lexical else "format")
            texts.append(copy)
            group.append(n_orig)
        n_orig += 1
    order = list(range(len(texts)))
    rng.shuffle(order)
    stats = {"originals": n_orig, "composite_originals": n_composite, "texts": len(texts)}
    return LabelledSet(
        [texts[i] for i in order], [group[i] for i in order], [kind[i] for i in order], stats
    )


def build_mrpc_set(
    max_pairs: int | None = None, seed: int = 0
) -> tuple[list[str], list[tuple[int, int, int]]]:
    """MRPC sentences and labelled pairs ``(i, j, quality)`` into them (1 = paraphrase)."""
    rows = load_mrpc_rows()
    if max_pairs is not None and max_pairs < len(rows):
        rows = random.Random(seed).sample(rows, max_pairs)
    texts: list[str] = []
    index: dict[str, int] = {}
    pairs = []
    for a, b, q in rows:
        ia = index.setdefault(a, len(texts))
        if ia == len(texts):
            texts.append(a)
        ib = index.setdefault(b, len(texts))
        if ib == len(texts):
            texts.append(b)
        pairs.append((min(ia, ib), max(ia, ib), q))
    return texts, pairs


_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "about",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "why",
        "when",
        "where",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "our",
        "their",
        "as",
        "into",
        "than",
        "then",
        "there",
        "here",
        "not",
        "no",
        "yes",
        "if",
        "so",
        "all",
        "any",
        "some",
        "each",
        "every",
        "more",
        "most",
        "other",
        "such",
        "only",
        "own",
        "same",
        "too",
        "very",
        "just",
        "also",
    ]
)


_DETERMINERS = frozenset(["a", "an", "the", "of", "about"])


def _slot_kind(words: list[str], pos: int) -> str | None:
    """What the word at `pos` is as a slot: "number", "name" or "noun", else None.

    Names are capitalised words inside the sentence; nouns are content words right after
    a / an / the / of / about (a cheap stand-in for a tagger that works on this data).
    """
    bare = words[pos].strip(".,;:!?()\"'")
    if not bare.isalnum():
        return None
    if bare.isdigit():
        return "number"
    if pos > 0 and bare[0].isupper() and bare[1:].islower() and len(bare) > 2:
        return "name"
    prev = words[pos - 1].lower() if pos > 0 else ""
    if prev in _DETERMINERS and bare.islower() and len(bare) >= 3 and bare not in _STOPWORDS:
        return "noun"
    return None


@dataclass
class HardNegativeSet:
    """Distinct items that look alike: texts and the labelled negative pairs per family."""

    texts: list[str]
    pairs: dict[str, list[tuple[int, int]]]


def build_hard_negative_set(seed: int = 0, slot_prompts: int = 400) -> HardNegativeSet:
    """Pairs of real, distinct items that share most of their words (none is a duplicate).

    Families: ``mrpc-negative`` (MRPC Quality=0: same event, different content);
    ``ag-news-template`` (t0 ag_news prompts: one template, different articles) and
    ``ag-news-title`` (the same with only the headline, so the variable part is short);
    ``slot-filled`` (real 4-20-word instructions with one number / name / content word swapped
    for another real word of the same kind: a different request); ``close-originals`` (Alpaca /
    Dolly records with word-set Jaccard >= 0.5 to another record but a different answer).
    """
    rng = random.Random(seed)
    texts: list[str] = []
    index: dict[str, int] = {}
    pairs: dict[str, list[tuple[int, int]]] = {}

    def add(text: str) -> int:
        key = " ".join(text.lower().split())
        if key not in index:
            index[key] = len(texts)
            texts.append(text)
        return index[key]

    def link(family: str, a: str, b: str) -> None:
        i, j = add(a), add(b)
        if i != j:
            pairs.setdefault(family, []).append((min(i, j), max(i, j)))

    for a, b, q in load_mrpc_rows():
        if q == 0:
            link("mrpc-negative", a, b)

    prompts = [r["prompt"] for r in _read_jsonl("t0-prompt-completion/ag_news_classify.jsonl")]
    question = "What label best describes this news article?"
    titles = [p.split(" (", 1)[0].split(" - ", 1)[0].strip() for p in prompts]
    for family, items in (
        ("ag-news-template", prompts),
        ("ag-news-title", [f"{t}\n{question}" for t in titles if len(t.split()) >= 3]),
    ):
        ids = [add(t) for t in items]
        for k in range(len(ids) - 1):  # each with the next two: a chain through the family
            for m in ids[k + 1 : k + 3]:
                pairs.setdefault(family, []).append((min(ids[k], m), max(ids[k], m)))

    instructions = [r["instruction"] for r in _read_json("llamafactory/alpaca_en_demo.json")]
    instructions += [r["instruction"] for r in _read_json("dolly/random_selection_20_top_100.json")]
    instructions += [r["instruction"] for r in _read_jsonl("self-instruct/seed_tasks.jsonl")]
    by_kind: dict[str, list[str]] = {}
    for text in instructions:
        words = text.split()
        for pos, word in enumerate(words):
            kind = _slot_kind(words, pos)
            if kind:
                by_kind.setdefault(kind, []).append(word.strip(".,;:!?()\"'"))
    vocab = {k: sorted(set(v)) for k, v in by_kind.items()}
    short = [t for t in dict.fromkeys(instructions) if 4 <= len(t.split()) <= 20]
    rng.shuffle(short)
    made = 0
    for text in short:
        words = text.split()
        slots = [i for i in range(len(words)) if _slot_kind(words, i)]
        if not slots or made >= slot_prompts:
            continue
        pos = rng.choice(slots)
        kind = _slot_kind(words, pos)
        bare = words[pos].strip(".,;:!?()\"'")
        variants = [text]
        for other in rng.sample(vocab[kind or "noun"], 2):
            if other.lower() != bare.lower():
                variants.append(
                    " ".join(words[:pos] + [words[pos].replace(bare, other)] + words[pos + 1 :])
                )
        for k, a in enumerate(variants):
            for b in variants[k + 1 :]:
                link("slot-filled", a, b)
        made += 1

    records = [
        (r["instruction"], r["input"], r["output"])
        for r in _read_json("llamafactory/alpaca_en_demo.json")
    ] + [
        (r["instruction"], r["context"], r["response"])
        for r in _read_json("dolly/random_selection_20_top_100.json")
    ]
    full = [_join(*r) for r in records]
    close = _unigram_close_pairs(full, 0.5)
    for i, j in close:
        if " ".join(records[i][2].lower().split()) != " ".join(records[j][2].lower().split()):
            link("close-originals", full[i], full[j])
    return HardNegativeSet(texts, pairs)


def _unigram_close_pairs(texts: list[str], limit: float) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, whose scikit-learn word sets have Jaccard >= limit."""
    from sklearn.feature_extraction.text import CountVectorizer

    x = CountVectorizer(binary=True, dtype=np.float32).fit_transform(texts).tocsr()
    sizes = np.asarray(x.sum(axis=1)).ravel()
    inter = (x @ x.T).tocoo()
    rows, cols = inter.row.astype(np.int64), inter.col.astype(np.int64)
    union = sizes[rows] + sizes[cols] - inter.data
    close = (rows < cols) & (inter.data >= limit * union)
    return list(zip(rows[close].tolist(), cols[close].tolist(), strict=True))


def pairwise_scores(
    clusters: list[list[int]], truth: set[tuple[int, int]], n: int
) -> dict[str, float]:
    """Pairwise precision / recall / F1 of clusters against true pairs (pairs inside clusters)."""
    label = np.full(n, -1, dtype=np.int64)
    predicted = 0
    for c, members in enumerate(clusters):
        label[members] = c
        predicted += len(members) * (len(members) - 1) // 2
    tp = sum(1 for a, b in truth if label[a] >= 0 and label[a] == label[b])
    precision = tp / predicted if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "predicted_pairs": predicted,
        "true_pairs": len(truth),
    }


# ---------------------------------------------------------------- conversations (per role)

Conversation = dict[str, str]  # part name ("system", "user", "assistant", "tool") -> text


def _sharegpt_parts(turns: list[dict]) -> Conversation:
    roles = {
        "human": "user",
        "gpt": "assistant",
        "function_call": "assistant",
        "observation": "tool",
    }
    pieces: dict[str, list[str]] = {}
    for t in turns:
        pieces.setdefault(roles.get(t["from"], "user"), []).append(t["value"])
    return {k: "\n\n".join(v) for k, v in pieces.items()}


def _completion(text: str) -> str:
    return text.replace("<|endoftext|>", "").strip()


def load_source_conversations() -> list[tuple[str, Conversation]]:
    """``(source, {role: text})`` for every record of the real datasets that has roles."""
    out: list[tuple[str, Conversation]] = []
    for rel in ("llamafactory/alpaca_en_demo.json", "llamafactory/identity.json"):
        out += [
            (rel, {"user": _join(r["instruction"], r["input"]), "assistant": r["output"]})
            for r in _read_json(rel)
        ]
    rel = "dolly/random_selection_20_top_100.json"
    out += [
        (rel, {"user": _join(r["instruction"], r["context"]), "assistant": r["response"]})
        for r in _read_json(rel)
    ]
    rel = "self-instruct/seed_tasks.jsonl"
    for r in _read_jsonl(rel):
        inst = r["instances"][0] if r["instances"] else {}
        out.append(
            (
                rel,
                {
                    "user": _join(r["instruction"], inst.get("input")),
                    "assistant": inst.get("output", ""),
                },
            )
        )
    for rel in ("fastchat/dummy_conversation.json", "llamafactory/glaive_toolcall_en_demo.json"):
        out += [(rel, _sharegpt_parts(r["conversations"])) for r in _read_json(rel)]
    rel = "t0-prompt-completion/ag_news_classify.jsonl"
    out += [
        (rel, {"user": r["prompt"], "assistant": _completion(r["completion"])})
        for r in _read_jsonl(rel)
    ]
    rel = "openai-cookbook/dbpedia_samples.jsonl"
    out += [(rel, {"user": r["text"], "assistant": str(r["category"])}) for r in _read_jsonl(rel)]
    return [(src, {k: v for k, v in conv.items() if v}) for src, conv in out]


def conversation_text(conv: Conversation) -> str:
    """The whole conversation as one text, parts in role order (what `texts_for("all")` gives)."""
    order = ("system", "user", "assistant", "tool")
    return _join(*(conv[k] for k in order if k in conv))


def perturb_parts(
    conv: Conversation, strength: float | None, rng: random.Random, vocab: list[str]
) -> tuple[Conversation, bool]:
    """`perturb` over a whole conversation: as many edits as `perturb` makes for the whole
    text, each on a word drawn from all parts, so a one-word answer is no likelier to change
    than any other word."""
    names = list(conv)
    sizes = [len(conv[k].split()) for k in names]
    total = sum(sizes)
    if total == 0:
        return dict(conv), False
    touches = max(1, round((strength if strength is not None else 0.07) * total))
    owners = [k for k, size in enumerate(sizes) for _ in range(size)]
    per_part = [0] * len(names)
    for pos in rng.sample(range(total), min(touches, total)):
        per_part[owners[pos]] += 1
    out: Conversation = {}
    lexical = False
    for name, count in zip(names, per_part, strict=True):
        out[name], changed = perturb(conv[name], strength, rng, vocab, touches=count)
        lexical |= changed
    return out, lexical


@dataclass
class ConversationSet:
    """Conversations with their duplicate group and how each was made (as `LabelledSet`)."""

    conversations: list[Conversation]
    group: list[int]
    kind: list[str]
    stats: dict[str, int] = field(default_factory=dict)

    def texts(self) -> list[str]:
        return [conversation_text(c) for c in self.conversations]

    def near_truth(self) -> set[tuple[int, int]]:
        return _pairs_within(self.group, range(len(self.conversations)))


def build_conversation_near_set(size: int, seed: int = 0) -> ConversationSet:
    """About `size` conversations: real ones with roles, then 0-3 perturbed copies each.

    Originals are the real records with at least `MIN_WORDS` words in all, not close to one
    another (word-set Jaccard >= 0.5 of the whole text, by scikit-learn); each gets copies
    with the probabilities of `build_near_set`, edits spread over all of its parts. Beyond the
    real originals, new ones pair a composite prompt with a composite answer of real sentences.
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    real: list[Conversation] = []
    for _src, conv in load_source_conversations():
        text = conversation_text(conv)
        key = " ".join(text.lower().split())
        if len(text.split()) >= MIN_WORDS and key not in seen and "user" in conv:
            seen.add(key)
            real.append(conv)
    drop = _unigram_sets_too_close([conversation_text(c) for c in real], 0.5)
    real = [c for c, d in zip(real, drop, strict=True) if not d]
    rng.shuffle(real)
    pool = sentence_pool([conversation_text(c) for c in real])
    vocab = sorted(
        {w.strip(".,;:!?()\"'").lower() for c in real for w in conversation_text(c).split()}
    )
    vocab = [w for w in vocab if w.isalnum()]
    convs: list[Conversation] = []
    group: list[int] = []
    kind: list[str] = []
    n_orig = n_composite = 0
    while len(convs) < size:
        if n_orig < len(real):
            original = real[n_orig]
        else:
            original = {
                "user": " ".join(rng.sample(pool, rng.randint(1, 2))),
                "assistant": " ".join(rng.sample(pool, rng.randint(1, 3))),
            }
            n_composite += 1
        convs.append(original)
        group.append(n_orig)
        kind.append("original")
        copies = rng.choices([0, 1, 2, 3], weights=[45, 30, 17, 8])[0]
        for _ in range(min(copies, size - len(convs))):
            if rng.random() < 0.2:
                copy, _ = perturb_parts(original, None, rng, vocab)
                kind.append("format")
            else:
                name = rng.choice(list(STRENGTHS))
                copy, lexical = perturb_parts(original, STRENGTHS[name], rng, vocab)
                kind.append(name if lexical else "format")
            convs.append(copy)
            group.append(n_orig)
        n_orig += 1
    order = list(range(len(convs)))
    rng.shuffle(order)
    stats = {"originals": n_orig, "composite_originals": n_composite, "conversations": len(convs)}
    return ConversationSet(
        [convs[i] for i in order], [group[i] for i in order], [kind[i] for i in order], stats
    )


@dataclass
class ConversationNegatives:
    """Distinct conversations that look alike, and the labelled negative pairs per family."""

    conversations: list[Conversation]
    pairs: dict[str, list[tuple[int, int]]]

    def texts(self) -> list[str]:
        return [conversation_text(c) for c in self.conversations]


class _NegativeBuilder:
    def __init__(self) -> None:
        self.conversations: list[Conversation] = []
        self.index: dict[str, int] = {}
        self.pairs: dict[str, list[tuple[int, int]]] = {}

    def add(self, conv: Conversation) -> int:
        key = json.dumps(conv, sort_keys=True).lower()
        if key not in self.index:
            self.index[key] = len(self.conversations)
            self.conversations.append(conv)
        return self.index[key]

    def link(self, family: str, a: Conversation, b: Conversation) -> None:
        i, j = self.add(a), self.add(b)
        if i != j:
            self.pairs.setdefault(family, []).append((min(i, j), max(i, j)))

    def chain(self, family: str, items: list[Conversation], width: int = 2) -> None:
        """Each item with the next `width` (a chain through the family, as in the text sets)."""
        for k in range(len(items) - 1):
            for other in items[k + 1 : k + 1 + width]:
                self.link(family, items[k], other)

    def done(self) -> ConversationNegatives:
        return ConversationNegatives(self.conversations, self.pairs)


def build_hard_negative_conversations(seed: int = 0) -> ConversationNegatives:
    """The hard-negative families of `build_hard_negative_set` as conversations.

    Items keep their real answers where the data has them: ``ag-news-template`` and
    ``ag-news-title`` (the T0 prompt and its label), ``close-originals`` (the Alpaca / Dolly
    record's answer). ``mrpc-negative`` and ``slot-filled`` items have no answers of their own
    (sentences; instructions with a swapped word), so they are user turns only, compared as
    the plain-text set compares them.
    """
    plain = build_hard_negative_set(seed)
    b = _NegativeBuilder()
    for family in ("mrpc-negative", "slot-filled"):
        for i, j in plain.pairs[family]:
            b.link(family, {"user": plain.texts[i]}, {"user": plain.texts[j]})
    rows = _read_jsonl("t0-prompt-completion/ag_news_classify.jsonl")
    question = "What label best describes this news article?"
    full = [{"user": r["prompt"], "assistant": _completion(r["completion"])} for r in rows]
    titled = [
        {"user": f"{t}\n{question}", "assistant": c["assistant"]}
        for t, c in (
            (r["prompt"].split(" (", 1)[0].split(" - ", 1)[0].strip(), c)
            for r, c in zip(rows, full, strict=True)
        )
        if len(t.split()) >= 3
    ]
    b.chain("ag-news-template", full)
    b.chain("ag-news-title", titled)
    records = [
        (r["instruction"], r["input"], r["output"])
        for r in _read_json("llamafactory/alpaca_en_demo.json")
    ] + [
        (r["instruction"], r["context"], r["response"])
        for r in _read_json("dolly/random_selection_20_top_100.json")
    ]
    for i, j in _unigram_close_pairs([_join(*r) for r in records], 0.5):
        if " ".join(records[i][2].lower().split()) != " ".join(records[j][2].lower().split()):
            b.link(
                "close-originals",
                {"user": _join(records[i][0], records[i][1]), "assistant": records[i][2]},
                {"user": _join(records[j][0], records[j][1]), "assistant": records[j][2]},
            )
    return b.done()


def _word_jaccards(pairs: list[tuple[str, str]]) -> np.ndarray:
    """Word-set Jaccard of each pair of texts by scikit-learn (independent of the code tested)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not pairs:
        return np.zeros(0)
    texts = [t for pair in pairs for t in pair]
    x = CountVectorizer(binary=True, token_pattern=r"(?u)\b\w+\b").fit_transform(texts).tocsr()
    a, b = x[0::2], x[1::2]
    inter = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    union = np.asarray(a.sum(axis=1)).ravel() + np.asarray(b.sum(axis=1)).ravel() - inter
    return np.divide(inter, union, out=np.ones(len(inter)), where=union > 0)


def build_shared_premise_set(seed: int = 0, per_context: int = 3) -> ConversationNegatives:
    """Conversations sharing a long prompt or context with different answers or labels.

    Nothing here is a duplicate: every labelled pair shares its premise and differs in its
    answer (label, or answer text with word-set Jaccard < 0.5 by scikit-learn). Families:
    ``fastchat-same-question`` (FastChat conversations with the same user turns and different
    answers, each with the next two); ``dolly-context`` (each Dolly context of 30+ words asked
    its own question and `per_context` other Dolly questions, each with the answer that goes
    with the question: a long shared context, a short different question and answer);
    ``mrpc-shared-sentence`` (MRPC rows sharing a sentence with different labels, as an
    SNLI-shaped prompt "Premise / Hypothesis / do they mean the same?" answered yes / no);
    ``ag-news-other-label`` (T0 ag_news headline prompts, one template, each with the next two
    of another label).
    """
    rng = random.Random(seed)
    b = _NegativeBuilder()
    by_prompt: dict[str, list[Conversation]] = {}
    for r in _read_json("fastchat/dummy_conversation.json"):
        conv = _sharegpt_parts(r["conversations"])
        by_prompt.setdefault(conv.get("user", ""), []).append(conv)
    candidates: list[tuple[Conversation, Conversation]] = []
    for convs in by_prompt.values():
        distinct = list({c.get("assistant", ""): c for c in convs}.values())
        for k in range(len(distinct) - 1):
            candidates += [(distinct[k], o) for o in distinct[k + 1 : k + 3]]
    sims = _word_jaccards([(x.get("assistant", ""), y.get("assistant", "")) for x, y in candidates])
    for (x, y), sim in zip(candidates, sims, strict=True):
        if sim < 0.5:
            b.link("fastchat-same-question", x, y)

    dolly = _read_json("dolly/random_selection_20_top_100.json")
    for r in dolly:
        if len(r["context"].split()) < 30:
            continue
        others = [o for o in dolly if o["instruction"] != r["instruction"]]
        variants = [{"user": _join(r["instruction"], r["context"]), "assistant": r["response"]}]
        for o in rng.sample(others, per_context):
            variants.append(
                {"user": _join(o["instruction"], r["context"]), "assistant": o["response"]}
            )
        for k, a in enumerate(variants):
            for c in variants[k + 1 :]:
                b.link("dolly-context", a, c)

    by_sentence: dict[str, list[tuple[str, int]]] = {}
    for a, c, q in load_mrpc_rows():
        by_sentence.setdefault(a, []).append((c, q))
        by_sentence.setdefault(c, []).append((a, q))
    for shared, items in by_sentence.items():
        convs = {
            q: {
                "user": f"Premise: {shared}\nHypothesis: {other}\n"
                "Does the hypothesis say the same as the premise?",
                "assistant": "yes" if q else "no",
            }
            for other, q in items
        }
        if len(convs) == 2:
            b.link("mrpc-shared-sentence", convs[0], convs[1])

    question = "What label best describes this news article?"
    titled: list[Conversation] = []
    for r in _read_jsonl("t0-prompt-completion/ag_news_classify.jsonl"):
        title = r["prompt"].split(" (", 1)[0].split(" - ", 1)[0].strip()
        if len(title.split()) >= 3:
            label = _completion(r["completion"])
            titled.append({"user": f"{title}\n{question}", "assistant": label})
    for k, conv in enumerate(titled):
        others = [o for o in titled[k + 1 :] if o["assistant"] != conv["assistant"]][:2]
        for o in others:
            b.link("ag-news-other-label", conv, o)
    return b.done()


if __name__ == "__main__":
    data = build_near_set(10_000)
    print(data.stats, len(data.near_truth()), len(data.exact_truth()))
    for i in range(3):
        print(repr(data.texts[i][:200]), data.kind[i])
