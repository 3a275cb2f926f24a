"""Sweep rows by refitting: each a task of :func:`srsbayes.parallel.map_tasks`.

Every model structure (family × number of studies × likelihood structure) is compiled once,
here, before its rows are sent out: priors and data are ``pm.Data`` swapped into the
compiled model (:mod:`srsbayes.inference.fitting`), and Dask workers on this machine load
the structure from the shared disk cache. A task that fails (an exception, a worker that
died) is a failed row, never a hung sweep.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..inference.fitting import DEFAULT_CACHE, FitSettings, ModelCache, sample_gated
from ..inputs.specs import OutcomeSpec
from ..parallel import Backend, TaskResult, map_tasks
from ..priors.distributions import Prior
from .plan import Job
from .rows import Identity, Method, SweepRow, failed_row, posterior_row


@dataclass(frozen=True)
class Refit:
    """A row to refit, and why (with the k̂ and ESS of a reweighting that was not used)."""

    job: Job
    reason: str
    khat: float = math.nan
    ess: float = math.nan


class Counter:
    """Counts finished rows across threads and reports them to ``progress``."""

    def __init__(self, total: int,
                 progress: Callable[[int, int, dict[str, object]], None] | None) -> None:
        self.total, self.done, self._progress = total, 0, progress
        self._lock = threading.Lock()

    def tick(self, row: SweepRow | None) -> None:
        with self._lock:
            self.done += 1
            if self._progress:
                self._progress(self.done, self.total, row.record() if row else {})


def refit_task(spec: OutcomeSpec, who: Identity, priors: dict[str, Prior],
               data: dict[str, np.ndarray], settings: FitSettings, cache: ModelCache | None,
               method: Method = Method.REFIT) -> SweepRow:
    """One row by NUTS, computed where :func:`srsbayes.parallel.map_tasks` runs it (a Dask
    worker passes ``cache`` None: the process-wide cache loads the structure from disk)."""
    t1 = time.perf_counter()
    idata, diag, used = sample_gated(spec.family, data, priors, settings,
                                     cache if cache is not None else DEFAULT_CACHE)
    row = posterior_row(who, spec, priors, data, idata["posterior"].to_dataset(), diag, used,
                        method=method)
    return replace(row, seconds=time.perf_counter() - t1)


def compile_structures(family: str, jobs: list[Job], cache: ModelCache) -> dict:
    """Compile (or load) every structure ``jobs`` need; seconds per structure."""
    seconds = {}
    for key in dict.fromkeys(j.structure(family) for j in jobs):
        t0 = time.perf_counter()
        cache.get(family, *key)
        seconds[key] = time.perf_counter() - t0
    return seconds


def run_refits(refits: list[Refit], spec: OutcomeSpec, settings: FitSettings,
               cache: ModelCache, backend: Backend, counter: Counter,
               compiled: dict) -> dict[int, SweepRow]:
    """Refit ``refits`` on ``backend`` (threads share ``cache``; Dask workers sample their
    chains on one core each); rows by job index, each recording why it was refitted."""
    if not refits:
        return {}
    compiled.update(compile_structures(spec.family, [r.job for r in refits], cache))
    on_dask = backend.kind != "threads"
    task_settings = replace(settings, cores=1) if on_dask else settings
    tasks = [(r.job.setting.label, (spec, r.job.who, r.job.priors, r.job.data, task_settings,
                                    None if on_dask else cache, Method.REFIT))
             for r in refits]

    def finished(_n: int, _total: int, res: TaskResult) -> None:
        counter.tick(res.value if res.ok else None)

    out = {}
    for r, res in zip(refits, map_tasks(refit_task, tasks, backend=backend, progress=finished),
                      strict=True):
        row = res.value if res.ok else failed_row(r.job.who, spec, f"task failed: {res.error}")
        out[r.job.index] = replace(row, refit_reason=r.reason, pareto_khat=r.khat,
                                   weights_ess=r.ess)
    return out
