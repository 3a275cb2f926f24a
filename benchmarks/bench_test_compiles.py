"""Benchmark: what an empty compile cache costs the test suite, compile by compile.

Runs pytest (by default the whole suite as ``make test`` runs it: ``-n 2``) with an empty
``$SRSBAYES_CACHE_DIR`` and ``benchmarks/compile_log`` first on ``PYTHONPATH``, whose
``sitecustomize`` logs every compilation of every process (pytest's workers and the CLI
subprocesses the tests start) to a JSON-lines file, then prints:

- the wall time of the run;
- compiles (cache ``miss``: compiled and saved; ``uncached``: compiled without the cache,
  e.g. a test's own cache folder or the cache switched off; ``fallback``) with their
  count and total seconds, and cache ``hit``s (a hit includes any wait for another
  process compiling the same entry under its file lock);
- the distinct model structures compiled through the model cache, and the tests that
  spent most time compiling.

Compile seconds are wall time, so on a loaded machine they grow with the load; the count
of compiles and their CPU time far less. The run's CPU time (pytest, its workers and every
subprocess they waited for) divided by two bounds from below what the run takes on two idle
cores. No test depends on a timing.

Usage::

    .venv/bin/python benchmarks/bench_test_compiles.py                 # the whole suite, -n 2
    .venv/bin/python benchmarks/bench_test_compiles.py -- tests/integration -x
    .venv/bin/python benchmarks/bench_test_compiles.py --summarise LOG  # an earlier run's log
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = Path(__file__).resolve().parent / "compile_log"
COMPILED = ("miss", "uncached", "fallback")


def summarise(log: Path, top: int = 25) -> None:
    """Print the compile counts, their total time and the slowest tests from ``log``."""
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    graph = [r for r in records if r["fn"] == "_compile_model"]
    by_status: dict[str, list[float]] = defaultdict(list)
    for r in graph:
        for status in r["status"] or {"?": 1}:
            by_status[status].append(r["seconds"])
    structure_hits = [r for r in records if r["fn"] == "compile_structure"
                      and r["status"].get("hit") and not any(s in r["status"] for s in COMPILED)]
    print(f"{len(graph)} graph-keyed compile calls, {len(structure_hits)} hits by structure")
    for status, secs in sorted(by_status.items()):
        print(f"  {status:9s} {len(secs):4d} calls, {sum(secs):8.1f} s total, "
              f"max {max(secs):6.1f} s")
    compiled = [r for r in graph if any(s in r["status"] for s in COMPILED)]
    cpu = [r["cpu_seconds"] for r in compiled if "cpu_seconds" in r]
    print(f"compiles (miss + uncached + fallback): {len(compiled)}, "
          f"{sum(r['seconds'] for r in compiled):.1f} s of wall time summed over processes"
          + (f"; CPU time {sum(cpu):.1f} s (of the {len(cpu)} that record it)" if cpu else ""))
    entries = Counter(r.get("entry") for r in compiled if r.get("entry"))
    print(f"distinct cache entries compiled: {len(entries)}; "
          f"compiled more than once: {sum(1 for n in entries.values() if n > 1)}")
    models = Counter(json.dumps(r.get("model"), sort_keys=True) for r in records
                     if r["fn"] == "compile_structure" and r.get("model")
                     and any(s in r["status"] for s in COMPILED))
    if models:
        print(f"structures compiled through the model cache: {len(models)}")
        for desc, n in models.most_common():
            d = json.loads(desc)
            print(f"  {n} x {d.get('family')} k={d.get('k')} structure={d.get('structure')}")
    per_test: Counter[str] = Counter()
    for r in compiled:
        per_test[(r["test"] or r["argv"]).split(" (")[0]] += r["seconds"]
    print(f"tests (or processes) by compile seconds, top {top}:")
    for test, secs in per_test.most_common(top):
        print(f"  {secs:7.1f} s  {test}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summarise", type=Path, help="summarise an earlier run's log")
    parser.add_argument("--log", type=Path, help="where to write the log (default: a temp file)")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's arguments")
    args = parser.parse_args(argv)
    if args.summarise:
        summarise(args.summarise)
        return 0
    cache = tempfile.mkdtemp(prefix="srsbayes-empty-cache-")
    log = args.log or Path(tempfile.mkdtemp(prefix="srsbayes-compile-log-")) / "compiles.jsonl"
    env = {**os.environ, "SRSBAYES_CACHE_DIR": cache, "SRSBAYES_COMPILE_LOG": str(log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PLUGIN),
                                                       os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "pytest", *(args.pytest_args or ["-n", "2", "-q"])]
    start = time.perf_counter()
    status = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # pytest, its workers, subprocesses
    cpu = usage.ru_utime + usage.ru_stime
    print(f"\npytest exit status {status}; wall time {wall / 60:.1f} min; CPU time of the run "
          f"{cpu / 60:.1f} min (on 2 idle cores at best {cpu / 120:.1f} min of wall time); "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; log {log}")
    if log.exists():
        summarise(log)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
