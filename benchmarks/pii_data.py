"""Labelled PII data for the benchmark: the presidio set split by template, and synthetic
instruction-style texts from two disjoint template families (development and hold-out).

Synthetic values come from Faker (seeded, offline, several locales); every span is recorded
while the text is built, so the truth never depends on the code under test.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PRESIDIO_FILE = SHARED / "presidio" / "generated_small.json"

# The presidio file's labels as the product's entity types.
GOLD_TYPES = {
    "ADDRESS": "STREET_ADDRESS",
    "STREET_ADDRESS": "STREET_ADDRESS",
    "PERSON": "PERSON",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "IBAN_CODE",
    "IP_ADDRESS": "IP_ADDRESS",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "LOCATION": "LOCATION",
    "ORGANIZATION": "ORGANIZATION",
    "DATE_TIME": "DATE_TIME",
    "DOMAIN_NAME": "URL",
    "TITLE": "TITLE",
    "SECRET": "SECRET",
}


@dataclass
class Labelled:
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    group: str = ""


def holdout_template(template_id: object) -> bool:
    """The fixed split of presidio templates: about half are hold-out, chosen by hash."""
    return hashlib.sha256(str(template_id).encode()).digest()[0] % 2 == 1


def presidio_set(*, holdout: bool | None) -> list[Labelled]:
    """The presidio file's records (None = all; True = hold-out templates; False = dev)."""
    records = json.loads(PRESIDIO_FILE.read_text(encoding="utf-8"))
    out = []
    for r in records:
        if holdout is not None and holdout_template(r.get("template_id")) != holdout:
            continue
        spans = [
            (
                s["start_position"],
                s["end_position"],
                GOLD_TYPES.get(s["entity_type"], s["entity_type"]),
            )
            for s in r["spans"]
        ]
        out.append(Labelled(r["full_text"], spans, f"template-{r.get('template_id')}"))
    return out


LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "sv_SE", "cs_CZ"]

# Slots: {name} {name2} {first} {email} {phone} {card} {ssn} {iban} {ip} {address}
# {address_lines} {secret} {dl}
DEV_TEMPLATES = [
    "Hi {first},\n\nCould you update my shipping address to {address}? My phone is {phone}.\n\nThanks,\n{name}",
    'Write a polite reply to this customer email:\n"Hello, my name is {name} and my card {card} was charged twice. Reach me at {email}."',
    "Here is my config, why does it fail?\nAPI_KEY={secret}\nHOST={ip}\nPORT=5432",
    "Summarise the incident: {name} ({email}) reported that the server at {ip} rejected the token {secret}.",
    "Dear {name},\nyour IBAN {iban} has been verified. Call {phone} with any questions.\nBest regards,\n{name2}",
    "My SSN is {ssn} and my driver's license number is {dl}. Is it safe to share these online?",
    "Rewrite more formally: hey {first}, send the invoice to {email} and ship the parts to\n{address_lines}",
    'Classify the sentiment: "{name} was so helpful on the phone, thank you!"',
]
HOLDOUT_TEMPLATES = [
    "Translate to French: 'Please send the package to {address}, attention {name}.'",
    "{first}, can you check why the deploy fails? I set token = {secret} in the env file.\n-- {name}",
    "Customer record\nName: {name}\nEmail: {email}\nPhone: {phone}\nAddress:\n{address_lines}",
    'Extract the entities from: "{name} paid with card {card} from IP {ip} on Monday."',
    "Good morning {first}! The wire should go to {iban}. My social security number is {ssn}.",
    "Can you help me write a complaint letter? I live at {address} and my neighbour keeps parking in my spot. Sign it as {name}.",
    "Fix the grammar: me and {name2} was meeting {name} at the office, his number are {phone}",
    "I got this email from {email} asking for my password. Here it is: password: {password}. Is it a scam?",
]

_SLOT_TYPES = {
    "name": "PERSON", "name2": "PERSON", "first": "PERSON", "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER", "card": "CREDIT_CARD", "ssn": "US_SSN", "iban": "IBAN_CODE",
    "ip": "IP_ADDRESS", "address": "STREET_ADDRESS", "address_lines": "STREET_ADDRESS",
    "secret": "SECRET", "dl": "US_DRIVER_LICENSE", "password": "SECRET",
}  # fmt: skip


def _secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    kind = rng.randrange(5)
    if kind == 0:
        return "ghp_" + "".join(rng.choice(alnum) for _ in range(36))
    if kind == 1:
        return "AKIA" + "".join(
            rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        )
    if kind == 2:
        return "sk-proj-" + "".join(rng.choice(alnum + "_-") for _ in range(40))
    if kind == 3:
        return "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return "".join(rng.choice(alnum + "+/") for _ in range(40))


def _values(fake: Faker, us: Faker, rng: random.Random) -> dict[str, str]:
    loc = fake
    street = loc.street_address()
    return {
        # Given + family name: titles ("Dr", "Sig.") are not part of a name in presidio's labels.
        "name": f"{loc.first_name()} {loc.last_name()}",
        "name2": f"{loc.first_name()} {loc.last_name()}",
        "first": loc.first_name(),
        "email": fake.email(),
        "phone": loc.phone_number(),
        "card": fake.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex"])),
        "ssn": us.ssn(),
        "iban": fake.iban(),
        "ip": fake.ipv4_public(),
        "address": f"{street}, {loc.postcode()} {loc.city()}",
        "address_lines": loc.address(),
        "secret": _secret(rng),
        "password": "".join(
            rng.choice(string.ascii_letters + string.digits + "!#%")
            for _ in range(rng.randint(8, 14))
        ),
        "dl": rng.choice(string.ascii_uppercase)
        + "".join(rng.choice(string.digits) for _ in range(7)),
    }


def fill(template: str, values: dict[str, str], group: str) -> Labelled:
    """The template with its slots filled, and the span of every filled slot."""
    out: list[str] = []
    spans = []
    pos = 0
    i = 0
    while i < len(template):
        if template[i] == "{":
            j = template.index("}", i)
            slot = template[i + 1 : j]
            value = values[slot]
            spans.append((pos, pos + len(value), _SLOT_TYPES[slot]))
            out.append(value)
            pos += len(value)
            i = j + 1
        else:
            out.append(template[i])
            pos += 1
            i += 1
    return Labelled("".join(out), spans, group)


def synthetic_set(n: int, *, holdout: bool, seed: int = 0) -> list[Labelled]:
    """`n` synthetic texts from the dev or the hold-out template family."""
    rng = random.Random(seed + (1000 if holdout else 0))
    templates = HOLDOUT_TEMPLATES if holdout else DEV_TEMPLATES
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed * 100 + i + (50 if holdout else 0))
    out = []
    for k in range(n):
        loc = LOCALES[k % len(LOCALES)]
        t = rng.randrange(len(templates))
        values = _values(fakers[loc], fakers["en_US"], rng)
        out.append(fill(templates[t], values, f"{'holdout' if holdout else 'dev'}-{t}-{loc}"))
    return out


def speed_texts(n: int, *, target_chars: int = 500, seed: int = 0) -> list[str]:
    """`n` texts of about `target_chars`: real Alpaca instructions with synthetic PII mixed in."""
    alpaca = json.loads(
        (SHARED / "llamafactory" / "alpaca_en_demo.json").read_text(encoding="utf-8")
    )
    prose = [
        " ".join(str(r.get(k, "")) for k in ("instruction", "input", "output")).strip()
        for r in alpaca
    ]
    pii = [x.text for x in synthetic_set(400, holdout=False, seed=seed)]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(pii)]
        while sum(map(len, parts)) < target_chars:
            parts.append(rng.choice(prose))
        text = "\n\n".join(parts)
        out.append(text[: target_chars + 80])
    return out
