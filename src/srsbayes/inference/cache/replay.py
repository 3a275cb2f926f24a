"""PyMC's initial points as data, so that a cache hit need not compile PyMC's function.

nutpie starts every chain at PyMC's ``support_point`` of each free variable (in the
unconstrained space) plus a ``Uniform(-1, 1)`` jitter. :func:`initial_point_replay` records
that function as data where it can be reproduced bit for bit, and
:func:`replayed_initial_point_fn` rebuilds it from the record with NumPy alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...values import DEFAULT_SEED
from .store import Replay

if TYPE_CHECKING:
    import numpy as np

Point = dict[str, "np.ndarray"]
"""An initial point: free variable (unconstrained) name -> value."""

logger = logging.getLogger(__name__)


def pymc_initial_point_fn(model):
    """nutpie's default initial points: support points, jittered on every free variable."""
    from nutpie import compile_pymc as cp
    from pymc.initial_point import make_initial_point_fn

    return cp._wrap_with_lock(make_initial_point_fn(
        model=model, overrides=None, default_strategy="support_point",
        jitter_rvs=set(model.free_RVs), return_transformed=True))


REPLAY_CHECK_SEEDS = (0, 1, 7, DEFAULT_SEED, 2**32 + 5, 2**64 - 1)
"""Seeds at which a replayed initial point must equal PyMC's bit for bit before an entry
records it (nutpie passes a u64 per chain)."""


def initial_point_replay(model, names: list[str]) -> Replay | None:
    """PyMC's initial-point function of ``model`` as data, or ``None`` if it is not
    reproduced exactly.

    nutpie's initial points are PyMC's ``support_point`` of every free variable (in the
    unconstrained space) plus a ``Uniform(-1, 1)`` jitter drawn, for each variable, from one
    of the streams ``SeedSequence(seed).spawn(n)`` (``pymc.pytensorf.reseed_rngs``). When
    no support point depends on another variable's jittered value (as in a non-centred
    model), the initial point is ``support + jitter`` with a fixed support and one stream
    per variable: then the support values and stream indices replace the compiled PyTensor
    function on a cache hit (0.1-0.25 s per process). The replay is recorded only if it
    equals PyMC's function exactly at every seed of :data:`REPLAY_CHECK_SEEDS`.
    """
    import numpy as np
    from pymc.initial_point import make_initial_point_fn

    free = model.free_RVs
    names = names[:len(free)]
    pymc_fn = make_initial_point_fn(model=model, overrides=None,
                                    default_strategy="support_point",
                                    jitter_rvs=set(free), return_transformed=True)
    support = make_initial_point_fn(model=model, overrides=None,
                                    default_strategy="support_point", jitter_rvs=set(),
                                    return_transformed=True)(0)
    if sorted(support) != sorted(names) or any(
            np.asarray(support[n]).dtype != np.float64 for n in names):
        return None
    replay: Replay = {"names": names, "n_streams": len(free),
                      "support": [np.asarray(support[n]).tolist() for n in names],
                      "shapes": [list(np.shape(support[n])) for n in names], "streams": []}
    first = pymc_fn(REPLAY_CHECK_SEEDS[1])
    streams = []
    for name, shape in zip(names, replay["shapes"], strict=True):
        found = [j for j in range(len(free))
                 if np.array_equal(first[name], np.asarray(support[name])
                                   + _jitter(REPLAY_CHECK_SEEDS[1], len(free), j, shape))]
        if len(found) != 1:
            return None
        streams.append(found[0])
    replay["streams"] = streams
    replayed = replayed_initial_point_fn(replay)
    for seed in REPLAY_CHECK_SEEDS:
        want, got = pymc_fn(seed), replayed(seed)
        if not all(np.asarray(want[n]).tobytes() == np.asarray(got[n]).tobytes()
                   and np.shape(want[n]) == np.shape(got[n]) for n in names):
            return None
    return replay


def replay_or_none(model, names: list[str]) -> Replay | None:
    """:func:`initial_point_replay`, or ``None`` (PyMC's function on hits) if it fails."""
    try:
        return initial_point_replay(model, names)
    except Exception as exc:  # an optimisation only: never fail the entry for it
        logger.info("initial-point replay not recorded: %s: %s", type(exc).__name__, exc)
        return None


def _jitter(seed, n_streams: int, stream: int, shape) -> Any:
    """The ``Uniform(-1, 1)`` draw of ``pymc.pytensorf.reseed_rngs``' stream ``stream``."""
    import numpy as np

    sub = np.random.SeedSequence(seed).spawn(n_streams)[stream]
    return np.random.Generator(np.random.PCG64(sub)).uniform(-1, 1, size=tuple(shape))


def replayed_initial_point_fn(replay: Replay) -> Callable[[Any], Point]:
    """The initial-point function recorded by :func:`initial_point_replay`."""
    import numpy as np

    support = [np.asarray(v, dtype=np.float64).reshape(shape)
               for v, shape in zip(replay["support"], replay["shapes"], strict=True)]
    parts = list(zip(replay["names"], support, replay["streams"], strict=True))
    n_streams = int(replay["n_streams"])

    def initial_point(seed) -> Point:
        subs = np.random.SeedSequence(seed).spawn(n_streams)
        return {name: np.asarray(base + np.random.Generator(np.random.PCG64(subs[j]))
                                 .uniform(-1, 1, size=base.shape))
                for name, base, j in parts}

    return initial_point
