"""Realistic, format-keeping surrogate values from Faker (seeded, offline).

A surrogate is of the same kind as the value it replaces: an email is an email, a phone keeps
its grouping, a card keeps its length and a valid Luhn digit, an IBAN its country and mod-97.
"""

from __future__ import annotations

import random
import string
from functools import lru_cache
from typing import Any

__all__ = ["iban_is_valid", "luhn_is_valid", "make_surrogate"]


@lru_cache(maxsize=1)
def _faker() -> Any:
    from faker import Faker

    return Faker("en_US")


def luhn_is_valid(number: str) -> bool:
    """Luhn check of the digits in `number` (separators ignored)."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_digit(payload: str) -> str:
    for d in "0123456789":
        if luhn_is_valid(payload + d):
            return d
    raise AssertionError("unreachable: one of ten digits always satisfies Luhn")


def iban_is_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    compact = "".join(iban.split()).upper()
    if len(compact) < 5 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _same_shape(original: str, rng: random.Random, *, keep: int = 0) -> str:
    """Each digit a random digit, each letter a random letter of the same case; rest kept."""
    out = []
    for i, c in enumerate(original):
        if i < keep:
            out.append(c)
        elif c.isdigit():
            out.append(rng.choice(string.digits))
        elif c.isalpha() and c.isascii():
            out.append(
                rng.choice(string.ascii_uppercase if c.isupper() else string.ascii_lowercase)
            )
        else:
            out.append(c)
    return "".join(out)


def _reformat(digits: str, template: str) -> str:
    """Put `digits` into the digit positions of `template`, keeping its separators."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in template)


def _match_case(value: str, like: str) -> str:
    if like.islower():
        return value.lower()
    if like.isupper() and len(like) > 1:
        return value.upper()
    return value


def _card(original: str, rng: random.Random) -> str:
    digits = [c for c in original if c.isdigit()]
    payload = digits[0] + "".join(rng.choice(string.digits) for _ in digits[1:-1])
    return _reformat(payload + _luhn_digit(payload), original)


def _ssn(original: str, rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    n_digits = sum(c.isdigit() for c in original)
    return _reformat(number, original) if n_digits == 9 else number


def _iban(original: str, rng: random.Random) -> str:
    compact = "".join(original.split()).upper()
    country = compact[:2]
    bban = _same_shape(compact[4:], rng)
    check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
    new = f"{country}{check:02d}{bban}"
    if " " in original:
        return " ".join(new[i : i + 4] for i in range(0, len(new), 4))
    return new


def _secret(original: str, rng: random.Random) -> str:
    # Keep a short issuer prefix ("ghp_", "sk-", "AKIA") so the text still reads as a key.
    keep = 0
    for sep in ("_", "-"):
        pos = original.find(sep)
        if 0 < pos <= 8:
            keep = max(keep, pos + 1)
    if original[:4] in {"AKIA", "ASIA", "AIza"}:
        keep = max(keep, 4)
    return _same_shape(original, rng, keep=keep)


def make_surrogate(entity_type: str, original: str, seed: int) -> str:
    """A fake value of the same kind as `original`, fully determined by `seed`.

    Parameters
    ----------
    entity_type:
        The finding's type; unknown types keep the shape of the value (digits -> digits,
        letters -> letters).
    original:
        The value being replaced (read for its shape only; never stored).
    seed:
        Derived by the caller from the keyed hash of the value, so the same value always
        gets the same surrogate and nobody can reverse it without the project secret.
    """
    rng = random.Random(seed)
    fake = _faker()
    fake.seed_instance(seed)
    if entity_type == "PERSON":
        words = original.split()
        value = fake.first_name() if len(words) == 1 else f"{fake.first_name()} {fake.last_name()}"
        return _match_case(value, original)
    if entity_type == "EMAIL_ADDRESS":
        return f"{fake.user_name()}@{fake.safe_domain_name()}"
    if entity_type == "CREDIT_CARD":
        return _card(original, rng)
    if entity_type == "US_SSN":
        return _ssn(original, rng)
    if entity_type == "IBAN_CODE" and iban_is_valid(original):
        return _iban(original, rng)
    if entity_type == "IP_ADDRESS":
        return fake.ipv6() if ":" in original else fake.ipv4_private()
    if entity_type == "STREET_ADDRESS":
        return fake.address() if "\n" in original.strip() else fake.street_address()
    if entity_type == "LOCATION":
        return _match_case(fake.city(), original)
    if entity_type == "ORGANIZATION":
        return fake.company()
    if entity_type == "URL":
        return fake.url()
    if entity_type == "DATE_TIME":
        return fake.date(pattern="%Y-%m-%d")
    if entity_type == "SECRET":
        return _secret(original, rng)
    return _same_shape(original, rng)
