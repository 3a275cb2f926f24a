"""Argument types of the command line: every value is checked as it is parsed, so a bad
one is a one-line error (exit status 2) before anything is read, fitted or written.

The admissible ranges are documented in ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn

from ..errors import EXIT_INPUT
from ..values import SEED_MAX, is_ascii_number, is_slug

MIN_DRAWS = 25
"""Fewest draws per chain: Pareto-smoothed importance sampling (PSIS-LOO) fits its tail to
``min(S / 5, 3 sqrt(S))`` draws and needs at least 5 of them (Vehtari et al. 2024, JMLR
25:1-58), which ``S = 25`` gives even with one chain; ``--draws 1`` or ``2`` crashed it."""
MAX_DRAWS = 10**7
"""Most draws (and tuning steps) per chain: far more than any analysis here needs (the
default is 1,000; ESS grows about linearly with draws), and below sizes the sampler's
buffers overflow at (``--draws 1000000000000`` aborted it). What fits in memory is checked
again, with the number of studies, before sampling
(:func:`srsbayes.inference.budget.check_memory`)."""
MAX_CHAINS = 256
"""Most chains: NUTS chains run in parallel threads; more than a few per core only wait."""
MAX_SIMS = 100_000
"""Most simulated data sets of ``validate`` (the default is 200)."""


def _whole(text: str) -> int:
    if not (is_ascii_number(text) and text.strip().lstrip("+-").isdigit()):
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(text)


def bounded_int(lo: int, hi: int, why: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number (ASCII digits) in ``[lo, hi]``."""

    def parse(text: str) -> int:
        value = _whole(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo:,} and {hi:,}, got "
                                             f"{text.strip()}{why}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def seed(text: str) -> int:
    """An argparse type: a seed, a whole number in ``[0, 2^64 - 1]`` (nutpie's ``u64``)."""
    value = _whole(text)
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"a seed must be between 0 and 2^64 - 1 = {SEED_MAX}, "
                                         f"got {text.strip()}")
    return value


def finite_float(text: str) -> float:
    """An argparse type: a finite number in ASCII (``inf``, ``nan``, ``1_0`` are refused)."""
    if not is_ascii_number(text) or not math.isfinite(value := float(text)):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def outcome_id(text: str) -> str:
    """An argparse type: an outcome id (a slug, :data:`srsbayes.values.SLUG`), so that it can
    only name a spec file in the models folder and a folder inside ``--out``."""
    if not is_slug(text):
        raise argparse.ArgumentTypeError(
            f"not an outcome id: {text!r} (lower-case letters, digits, '_' and '-', starting "
            "with a letter or digit, e.g. lmd)")
    return text


draws = bounded_int(MIN_DRAWS, MAX_DRAWS, f" (at least {MIN_DRAWS}, which PSIS-LOO needs)")
tune = bounded_int(1, MAX_DRAWS)
chains = bounded_int(1, MAX_CHAINS)
sims = bounded_int(1, MAX_SIMS)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line plus a hint (exit status 2), not the
    usage block: ``srsbayes: error: ...; see 'python -m srsbayes fit --help'``."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.splitlines())
        sys.stderr.write(f"srsbayes: error: {text}; see '{self.prog} --help'\n")
        sys.exit(EXIT_INPUT)
