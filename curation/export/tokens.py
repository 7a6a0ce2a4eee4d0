"""Token counting for export limits: a real local tokenizer when given, else an estimate.

Nothing here downloads: tokenizer.json files are read with `tokenizers`, tiktoken only from its cache.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.errors import ExportError

# Code points from CJK radicals upward: scripts where one character is about one token.
_WIDE = re.compile(r"[\u2e80-\uffff]")

_TIKTOKEN_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "p50k_base": "https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken",
    "r50k_base": "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
}


def estimate_tokens(text: str) -> int:
    """Estimate the token count of ``text`` without a tokenizer.

    The estimate blends two common rules of thumb for English BPE vocabularies, averaged:
    characters / 4 and words * 1.3. Characters of CJK and other wide scripts
    (U+2E80 and above) count one token each instead, since BPE vocabularies rarely merge them.
    It is within about 20 % of cl100k_base on English prose and errs high on code.

    Parameters
    ----------
    text:
        Any string.

    Returns
    -------
    int
        ``ceil((narrow_chars / 4 + words * 1.3) / 2 + wide_chars)``; 0 for an empty string.
    """
    if not text:
        return 0
    wide = 0 if text.isascii() else len(_WIDE.findall(text))
    narrow = len(text) - wide
    return math.ceil((narrow / 4 + len(text.split()) * 1.3) / 2 + wide)


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """Counts tokens of one string; ``exact`` is False for the estimate."""

    name: str
    exact: bool
    count: Callable[[str], int]


ESTIMATE = TokenCounter(name="estimate", exact=False, count=estimate_tokens)


def _tiktoken_cached(encoding: str) -> bool:
    """True when tiktoken's cache already holds ``encoding`` (so loading needs no network)."""
    url = _TIKTOKEN_URLS.get(encoding)
    if url is None:
        return False
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return os.path.exists(os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest()))


def resolve_token_counter(tokenizer: Any = None) -> TokenCounter:
    """Build the token counter for ``tokenizer``.

    Parameters
    ----------
    tokenizer:
        ``None`` (estimate); a path to a ``tokenizer.json`` file or to a folder holding one
        (loaded with ``tokenizers.Tokenizer.from_file``); a tiktoken encoding name such as
        ``"cl100k_base"`` (used only if tiktoken is installed and the encoding is in its local
        cache, else the estimate); or any object with an ``encode(text)`` method.

    Raises
    ------
    ExportError
        When a path is given that holds no ``tokenizer.json``, or the value is of no known kind.
    """
    if tokenizer is None:
        return ESTIMATE
    if isinstance(tokenizer, TokenCounter):
        return tokenizer
    if isinstance(tokenizer, str) and tokenizer in _TIKTOKEN_URLS:
        if not _tiktoken_cached(tokenizer):
            return ESTIMATE
        try:
            import tiktoken
        except ImportError:
            return ESTIMATE
        enc = tiktoken.get_encoding(tokenizer)
        return TokenCounter(
            name=f"tiktoken:{tokenizer}",
            exact=True,
            count=lambda text: len(enc.encode(text, disallowed_special=())),
        )
    if isinstance(tokenizer, str | os.PathLike):
        path = Path(tokenizer)
        file = path / "tokenizer.json" if path.is_dir() else path
        if not file.is_file():
            raise ExportError(
                f"tokenizer {str(tokenizer)!r} is not a local tokenizer.json file or a folder "
                f"holding one, nor one of the tiktoken encodings {sorted(_TIKTOKEN_URLS)}; "
                "give a local path (nothing is downloaded) or leave it empty for an estimate"
            )
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - tokenizers is an optional extra
            raise ExportError(
                "counting tokens with a tokenizer.json needs the 'tokenizers' package; "
                "install the 'tokenizers' extra or leave the tokenizer empty for an estimate"
            ) from exc
        tok = Tokenizer.from_file(str(file))
        return TokenCounter(
            name=str(file),
            exact=True,
            count=lambda text: len(tok.encode(text, add_special_tokens=False).ids),
        )
    encode = getattr(tokenizer, "encode", None)
    if callable(encode):

        def count(text: str) -> int:
            out = encode(text)
            ids = getattr(out, "ids", out)
            return len(ids)

        return TokenCounter(name=type(tokenizer).__name__, exact=True, count=count)
    raise ExportError(
        f"tokenizer {tokenizer!r} is not usable: give None, a local tokenizer.json path, "
        f"a tiktoken encoding name {sorted(_TIKTOKEN_URLS)}, or an object with encode()"
    )


def record_tokens(
    record: dict[str, Any], counter: TokenCounter, *, messages_key: str | None
) -> int:
    """Tokens of one exported record: every string value, plus chat overhead.

    Follows the OpenAI cookbook's estimate (reference §3.3): every string value is encoded
    (role names included, keys not), non-string scalars are ignored, and a record with a
    message list adds 3 tokens per message plus 3 for the reply primer.
    """
    total = 0
    stack: list[Any] = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += counter.count(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    if messages_key is not None:
        messages = record.get(messages_key)
        if isinstance(messages, list):
            total += 3 * len(messages) + 3
    return total
