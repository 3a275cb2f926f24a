"""Single values every layer checks the same way: numbers as written, slugs, study names,
seeds and sampler sizes.

One grammar per value class, so that a number in a CSV cell, in a prior's parameters and
on the command line means the same thing, and an identifier that names a file can never
name another folder.
"""

from __future__ import annotations

import re
import unicodedata

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
"""A decimal number in ASCII: digits, an optional point and exponent. Python's ``float``
also reads ``4_5``, ``٤٥`` (Arabic-Indic) and ``４５`` (full-width) as 45, and ``inf`` and
``nan``; none of them is a number a study reports, so none is accepted."""


def is_ascii_number(text: str) -> bool:
    """Whether ``text`` (surrounding blanks ignored) is a number in :data:`NUMBER`'s grammar."""
    return NUMBER.fullmatch(text.strip(" \t")) is not None


SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
"""An outcome id: lower-case ASCII letters, digits, ``_`` and ``-``, not starting with
``_`` or ``-``. It names a spec file and a folder of outputs, so it can never be ``..``,
contain a separator, or differ from the lower-cased ids of the data only by case."""


def is_slug(text: str) -> bool:
    """Whether ``text`` is an outcome id (:data:`SLUG`)."""
    return SLUG.fullmatch(text) is not None


def clean_name(text: str) -> str:
    """A study name as it is compared: NFKC-normalised, invisible characters removed.

    Invisible characters are Unicode's format characters (category ``Cf``: zero-width
    space, zero-width (non-)joiner, word joiner, byte-order mark, soft hyphen,
    bidirectional marks), so that "Study A" and "Study A" followed by a zero-width space are
    one study; NFKC folds compatibility forms (full-width letters, a no-break space) into
    their ordinary ones. Blanks at either end are stripped.
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if unicodedata.category(c) != "Cf").strip()


SEED_MAX = 2**64 - 1
"""Largest seed: nutpie takes an unsigned 64-bit seed."""

DEFAULT_SEED = 20260226
"""The seed of every command and API call that is not given one (``--seed``): the one
constant the fit settings, the certainty run and the command line read."""


def shorten(text: str, width: int = 40) -> str:
    """``text`` cut to at most ``width`` characters with an ellipsis (figure labels)."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
