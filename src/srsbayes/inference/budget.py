"""Refuse, before sampling, a fit whose draws cannot fit in memory.

``--chains 100000000`` was killed for lack of memory after six minutes; the estimate below
turns that into a one-line input error up front.
"""

from __future__ import annotations

import os

from ..errors import InputError

BYTES_PER_VALUE = 8 * 4
"""A float64 kept about four times over: the sampler's trace, the ``DataTree``, the derived
draws computed from it and the netCDF write buffer."""


def values_per_draw(k: int) -> int:
    """Numbers stored per draw of one chain for ``k`` studies: a generous bound on the
    sampler statistics, hyperparameters and derived quantities (64) plus the per-study ones
    (study effects, log-likelihood, replicated data: 16 per study). Measured: 68 values for
    the bundled LMD fit (k = 4), against 128 here."""
    return 64 + 16 * k


def memory_estimate(draws: int, chains: int, k: int) -> int:
    """Bytes a fit of ``chains`` x ``draws`` of ``k`` studies needs, its one retry included
    (which doubles the draws, :meth:`srsbayes.inference.fitting.FitSettings.retry`)."""
    return 2 * draws * chains * values_per_draw(k) * BYTES_PER_VALUE


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable`` of ``/proc/meminfo``, else the
    physical memory), or None where neither can be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def check_memory(draws: int, chains: int, k: int, available: int | None = None) -> None:
    """Raise an :class:`~srsbayes.errors.InputError` (exit status 2) when the estimate of
    :func:`memory_estimate` exceeds the memory available (``available`` bytes, default
    :func:`available_memory`)."""
    available = available_memory() if available is None else available
    need = memory_estimate(draws, chains, k)
    if available is not None and need > available:
        raise InputError(f"{chains} chains x {draws} draws of {k} studies need about "
                         f"{_size(need)} of memory (estimate, retry included), more than the "
                         f"{_size(available)} available; use fewer draws or chains",
                         column="--draws")
