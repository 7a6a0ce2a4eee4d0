"""The rule for project names: what a new project may be called, checked in one place.

`Store.create_project` (and through it the sidebar and the command line) calls it; names of
projects created before the rule existed are never re-checked, so those projects still open.
"""

from __future__ import annotations

import unicodedata

from curation.errors import InputError

PROJECT_NAME_MAX = 100
ALLOWED_PUNCTUATION = " -_."
RULE = (
    f"1 to {PROJECT_NAME_MAX} characters: letters (any script), digits, spaces, "
    "'-', '_' and '.', with no space at either end"
)


def _shown(name: str) -> str:
    """The name as a message shows it: quoted, control characters escaped, long names cut."""
    short = name if len(name) <= 60 else name[:57] + "..."
    return repr(short)


def _char_name(ch: str) -> str:
    label = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    return f"{ch!r} ({code}{' ' + label if label else ''})"


def _allowed(ch: str, *, first: bool) -> bool:
    if ch in ALLOWED_PUNCTUATION:
        return True
    category = unicodedata.category(ch)
    if category.startswith("L") or category == "Nd":
        return True
    # combining marks (accents, vowel signs of Indic scripts) belong to the letter before them
    return category.startswith("M") and not first


def validate_project_name(name: object) -> str:
    """Return `name` unchanged when it is a valid name for a new project, else raise.

    Parameters
    ----------
    name:
        The name as the user typed it. It is never stripped or normalised: a name the rule
        refuses is refused with the reason, so the project is called exactly what was asked.

    Returns
    -------
    str
        The same name.

    Raises
    ------
    InputError
        When the name is empty, longer than ``PROJECT_NAME_MAX`` characters, starts or ends with
        a space, is only dots (``.``, ``..``), or holds any character other than letters, digits,
        spaces, ``-``, ``_`` and ``.`` (so no path separators, control or invisible characters).
        The message names the bad value and the rule.
    """
    if not isinstance(name, str) or name == "":
        raise InputError(f"A project needs a name; use {RULE}.")
    if len(name) > PROJECT_NAME_MAX:
        raise InputError(
            f"The project name {_shown(name)} is {len(name)} characters long; "
            f"use at most {PROJECT_NAME_MAX}."
        )
    if name != name.strip():
        raise InputError(
            f"The project name {_shown(name)} starts or ends with a space or other blank; "
            "remove it (names are kept exactly as typed)."
        )
    for i, ch in enumerate(name):
        if not _allowed(ch, first=i == 0):
            if ch in "/\\":
                why = "a path separator"
            elif unicodedata.category(ch).startswith("C"):
                why = "a control or invisible character"
            else:
                why = "a character that is not allowed"
            raise InputError(
                f"The project name {_shown(name)} contains {why}, {_char_name(ch)}; use {RULE}."
            )
    if set(name) <= {".", " "}:
        raise InputError(
            f"The project name {_shown(name)} is only dots; use at least one letter or digit."
        )
    return name


__all__ = ["PROJECT_NAME_MAX", "validate_project_name"]
