"""`PiiScanner`: the public detection API, batched, cached and spread over the CPU cores.

Texts are deduplicated and looked up in the cache by sha256; the rest go through spaCy in
``nlp.pipe`` batches and the selected recognizers, in worker processes for large scans.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from curation.errors import PiiConfigError
from curation.pii.cache import FindingCache
from curation.pii.config import PiiConfig
from curation.pii.findings import Finding, text_sha256
from curation.progress import ProgressFn
from curation.progress import report as send

__all__ = ["PiiScanner", "ProgressFn", "residual_findings", "resolve_overlaps"]


# Container types whose span explains anything inside it (a city inside an address).
_STRUCTURAL = {"STREET_ADDRESS", "SECRET", "EMAIL_ADDRESS", "URL", "IBAN_CODE", "CREDIT_CARD"}


def resolve_overlaps(findings: Sequence[Finding]) -> list[Finding]:
    """Drop duplicates and findings explained by a containing one; sorted by start.

    The same span found twice keeps the higher score. A finding inside another of a different
    type is dropped when the container is structural (an address, a secret, an email...) or
    scores at least as high; partial overlaps both stay (the scrubber merges them).
    """
    ordered = sorted(findings, key=lambda f: (f.start, -f.end, -f.score))
    kept: list[Finding] = []
    for f in ordered:
        explained = False
        for k in kept:
            if (
                k.start <= f.start
                and f.end <= k.end
                and (
                    (k.start, k.end) == (f.start, f.end)
                    or k.entity_type == f.entity_type
                    or k.entity_type in _STRUCTURAL
                    or k.score >= f.score
                )
            ):
                explained = True
                break
        if not explained:
            kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end))


def _to_findings(text: str, digest: str, results: list[Any], config: PiiConfig) -> list[Finding]:
    allowed = {a.casefold() for a in config.allow_list}
    wanted = set(config.entities)
    out = []
    for r in results:
        if r.entity_type not in wanted or r.end <= r.start:
            continue
        if allowed and text[r.start : r.end].strip().casefold() in allowed:
            continue
        meta = r.recognition_metadata or {}
        pattern = meta.get("pattern")
        if pattern is None and r.analysis_explanation is not None:
            pattern = r.analysis_explanation.pattern_name
        if pattern is None and r.entity_type == "PHONE_NUMBER":
            pattern = "phonenumbers"
        out.append(
            Finding(
                start=r.start,
                end=r.end,
                entity_type=r.entity_type,
                score=round(min(1.0, max(0.0, float(r.score))), 4),
                recognizer=str(meta.get("recognizer_name") or "unknown"),
                text_sha256=digest,
                pattern=None if pattern is None else str(pattern),
            )
        )
    return resolve_overlaps(out)


def _scan_with(engine: Any, texts: list[str], digests: list[str]) -> list[list[Finding]]:
    out = []
    for text, digest, artifacts in zip(texts, digests, engine.artifacts(texts), strict=True):
        results = engine.analyze(text, artifacts) if text.strip() else []
        out.append(_to_findings(text, digest, results, engine.config))
    return out


# ---------------------------------------------------------------- worker processes

_WORKER_ENGINE: Any = None


def _init_worker(config: PiiConfig) -> None:
    global _WORKER_ENGINE
    from curation.pii.engine import build_engine

    _WORKER_ENGINE = build_engine(config)


def _worker_scan(texts: list[str], digests: list[str]) -> list[list[dict[str, Any]]]:
    found = _scan_with(_WORKER_ENGINE, texts, digests)
    return [[f.to_dict() for f in fs] for fs in found]


class PiiScanner:
    """Find personal data in texts.

    Parameters
    ----------
    entities:
        Entity types to find (see `curation.pii.config.ENTITY_TYPES`); None = the defaults.
    score_threshold:
        Minimum score; None = `DEFAULT_SCORE_THRESHOLD` (0.4).
    config:
        A full `PiiConfig` (allow list, custom recognizers, model, workers); `entities` and
        `score_threshold`, when given, override its values.
    cache:
        Where findings are kept by text hash; a new empty cache when None. Pass the same
        cache (or one rebuilt with `FindingCache.from_dict`) to scan only changed texts.

    Examples
    --------
    >>> scanner = PiiScanner(entities=["EMAIL_ADDRESS"])          # doctest: +SKIP
    >>> scanner.scan(["write to ana@example.org"])[0][0].entity_type  # doctest: +SKIP
    'EMAIL_ADDRESS'
    """

    def __init__(
        self,
        entities: Sequence[str] | None = None,
        score_threshold: float | None = None,
        *,
        config: PiiConfig | None = None,
        cache: FindingCache | None = None,
    ) -> None:
        base = config or PiiConfig()
        changes: dict[str, Any] = {}
        if entities is not None:
            if isinstance(entities, str):
                raise PiiConfigError(
                    f"entities must be a list of names, not the string {entities!r}"
                )
            changes["entities"] = tuple(entities)
        if score_threshold is not None:
            changes["score_threshold"] = score_threshold
        self.config = replace(base, **changes) if changes else base
        self.config_hash = self.config.config_hash()
        self.cache = cache if cache is not None else FindingCache()
        self._engine: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    # -- engines

    @property
    def engine(self) -> Any:
        """The in-process analyzer, loaded on first use."""
        with self._lock:
            if self._engine is None:
                from curation.pii.engine import build_engine

                self._engine = build_engine(self.config)
            return self._engine

    def _workers(self) -> int:
        if self.config.workers is not None:
            return self.config.workers
        return max(1, min(os.cpu_count() or 1, 8))

    def _get_pool(self, workers: int) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn: safe under Streamlit's threads; each worker loads the model once.
                self._pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(self.config,),
                )
            return self._pool

    def close(self) -> None:
        """Stop the worker processes (they are started again when needed)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def __enter__(self) -> PiiScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- scanning

    def scan(
        self, texts: Sequence[str], *, progress: ProgressFn | None = None
    ) -> list[list[Finding]]:
        """Findings per text, each list sorted by start.

        Parameters
        ----------
        texts:
            The texts (any number; identical texts are scanned once).
        progress:
            A `curation.progress.ProgressFn`, sent `ProgressUpdate`s for the stages
            ``"cache"`` (looking texts up in the finding cache), ``"load"`` (the model) and
            ``"scan"`` (texts scanned so far), each from ``done=0`` to ``done=total``.

        Returns
        -------
        list[list[Finding]]
            ``result[i]`` are the findings of ``texts[i]``.

        Raises
        ------
        PiiConfigError
            A text is not a string, or the spaCy pipeline is not installed.
        """
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise PiiConfigError(f"texts[{i}] is {type(t).__name__}, not str: pass text only")

        def report(stage: str, done: int, total: int) -> None:
            send(progress, stage, done, total)

        digests = [text_sha256(t) for t in texts]
        report("cache", 0, len(texts))
        known: dict[str, list[Finding]] = {}
        todo: dict[str, str] = {}
        for t, d in zip(texts, digests, strict=True):
            if d in known or d in todo:
                continue
            cached = self.cache.get(d, self.config_hash)
            if cached is None:
                todo[d] = t
            else:
                known[d] = cached
        report("cache", len(texts), len(texts))
        if todo:
            found = self._scan_uncached(list(todo.values()), list(todo), report)
            for d, fs in zip(todo, found, strict=True):
                self.cache.put(d, self.config_hash, fs)
                known[d] = fs
        return [list(known[d]) for d in digests]

    def _scan_uncached(
        self, texts: list[str], digests: list[str], report: Callable[[str, int, int], None]
    ) -> list[list[Finding]]:
        total = len(texts)
        workers = self._workers()
        chunk = self.config.chunk_size
        if workers <= 1 or total < self.config.parallel_min_texts:
            report("load", 0, 1)
            engine = self.engine
            report("load", 1, 1)
            out: list[list[Finding]] = []
            report("scan", 0, total)
            for i in range(0, total, chunk):
                out.extend(_scan_with(engine, texts[i : i + chunk], digests[i : i + chunk]))
                report("scan", len(out), total)
            return out
        # Smaller chunks than workers x chunk_size would leave a core idle at the end.
        chunk = max(16, min(chunk, -(-total // (workers * 4))))
        pool = self._get_pool(workers)
        report("scan", 0, total)
        futures: list[tuple[int, Future[list[list[dict[str, Any]]]]]] = []
        for i in range(0, total, chunk):
            futures.append(
                (i, pool.submit(_worker_scan, texts[i : i + chunk], digests[i : i + chunk]))
            )
        results: dict[int, list[list[Finding]]] = {}
        done = 0
        for i, fut in futures:
            part = [[Finding.from_dict(d) for d in fs] for fs in fut.result()]
            results[i] = part
            done += len(part)
            report("scan", done, total)
        return [fs for i, _ in futures for fs in results[i]]


def residual_findings(
    scanner: PiiScanner,
    texts: Sequence[str],
    *,
    ignore_placeholders: bool = True,
    progress: ProgressFn | None = None,
) -> list[list[Finding]]:
    """Re-scan scrubbed texts: what personal data is still there.

    Placeholders the scrubber wrote (``<PERSON>``, ``<PERSON_3>``) are not findings: a
    finding that lies entirely inside one is dropped.
    """
    from curation.pii.operators import placeholder_spans

    found = scanner.scan(texts, progress=progress)
    if not ignore_placeholders:
        return found
    out = []
    for text, fs in zip(texts, found, strict=True):
        spans = placeholder_spans(text)
        out.append([f for f in fs if not any(s <= f.start and f.end <= e for s, e in spans)])
    return out
