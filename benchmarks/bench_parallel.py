"""Benchmark: sweeps and SBC on Dask with 1 and 2 workers (issue 25, item 1).

For the default LMD sweep and for ``--sims`` SBC data sets of the binomial family, prints
the wall time in this process (threads for the sweep, one data set after another for SBC)
and on a ``LocalCluster`` of 1 and 2 worker processes (cluster start-up included), the
scaling efficiency ``t(1 worker) / (2 t(2 workers))``, the per-task overhead
``(t(1 worker) - t(in process)) / tasks`` and the resident memory of each worker after
its tasks. A sweep's tasks are its refits (the reference fit and the rows computed by
importance sampling run in this process). The compile cache is warmed first (one
unmeasured run of each). No test depends on a timing. ``benchmarks/bench_all.py`` runs this
script once and prints its figures in its table (``--json``).

Usage::

    .venv/bin/python benchmarks/bench_parallel.py              # 200 SBC data sets
    .venv/bin/python benchmarks/bench_parallel.py --sims 20    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from srsbayes.inference.fitting import resolve_priors
from srsbayes.inputs.data import default_table, outcome_table
from srsbayes.inputs.specs import load_specs
from srsbayes.parallel import Backend, dask_client, map_on_client
from srsbayes.sensitivity.sweep import run_sweep
from srsbayes.validation import sbc
from srsbayes.validation.run import FAMILY_OUTCOMES


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def worker_memory(workers: int, run) -> tuple[float, list[float]]:
    """Seconds of ``run(backend)`` on a LocalCluster of ``workers`` and each worker's RSS
    (MB) afterwards. The cluster is started inside the timing."""
    start = time.perf_counter()
    backend = Backend("local", workers)
    with dask_client(backend) as client:
        run(_OnClient(client))
        seconds = time.perf_counter() - start
        rss = sorted(client.run(_rss_mb).values())
    return seconds, rss


class _OnClient:
    """A backend stand-in whose tasks go to an open client (to read worker memory after)."""

    kind = "client"
    label = "dask LocalCluster (benchmark)"

    def __init__(self, client) -> None:
        self.client = client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--outcome", default="lmd")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    specs = load_specs()
    table = default_table(specs)
    spec = specs[args.outcome]
    family = spec.family
    sbc_outcome = FAMILY_OUTCOMES[family]
    wide = outcome_table(table, specs[sbc_outcome])
    wide, priors = sbc.sbc_design(family, wide, resolve_priors(specs[sbc_outcome], wide))

    def sweep(backend):
        return run_sweep(table, spec, backend=backend)

    def sbc_run(backend):
        return sbc.run_sbc(family, sbc_outcome, wide, priors, n_sims=args.sims, seed=11,
                           backend=backend)

    import srsbayes.parallel as par

    original = par.map_tasks

    def via_client(fn, tasks, *, backend=None, progress=None):
        if getattr(backend, "kind", None) == "client":
            return map_on_client(backend.client, fn, tasks, progress)
        return original(fn, tasks, backend=backend, progress=progress)

    # the sweep's refits and SBC imported map_tasks by name: route their client backends
    import srsbayes.sensitivity.refit as refit_mod

    refit_mod.map_tasks = via_client
    sbc.map_tasks = via_client
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    figures = {}
    for key, name, run, tasks in (("sweep", "default sweep", sweep, None),
                                  ("sbc", f"SBC, {args.sims} data sets", sbc_run, args.sims)):
        run(None)  # warm the compile cache
        t0 = time.perf_counter()
        result = run(None)
        here = time.perf_counter() - t0
        n_tasks = tasks or max(1, int((result.rows["method"] == "refit").sum()))
        one, rss1 = worker_memory(1, run)
        two, rss2 = worker_memory(2, run)
        figures[key] = {"name": name, "in_process": here, "workers_1": one, "workers_2": two,
                        "efficiency": one / (2 * two), "overhead": (one - here) / n_tasks,
                        "tasks": n_tasks, "rss_1": rss1, "rss_2": rss2}
        print(f"{name}: in process {here:.1f} s; LocalCluster 1 worker {one:.1f} s, "
              f"2 workers {two:.1f} s; scaling efficiency {one / (2 * two):.2f}; per-task "
              f"overhead {(one - here) / n_tasks:.3f} s ({n_tasks} tasks); worker RSS "
              f"{', '.join(f'{m:.0f}' for m in rss1 + rss2)} MB "
              f"(load {os.getloadavg()[0]:.2f})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
