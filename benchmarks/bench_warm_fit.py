"""Benchmark: a warm whole-process ``fit`` against ``python -c "import pymc"`` (issue 25, item 2).

Two commands, each a whole process started by this script, run in turn (A B A B ...) so that
a drift in the machine's load hits both alike:

(a) ``python -c "import pymc"``: the yardstick the target is stated against;
(b) ``python -m srsbayes fit OUTCOME`` with a warm compile cache (one unmeasured run fills
    the cache first, in ``$SRSBAYES_CACHE_DIR`` if set, else a fresh folder).

and, interleaved with them, the floors of :mod:`floors`:

(c) ``floors.py --stack``: the least any warm fit on the decided stack must import;
(d) ``floors.py --import``: every third-party module this warm fit loaded, and nothing else;
(e) ``floors.py --work`` (once): the wall time of one NUTS run and of writing the sampler's
    groups; (c) plus these is the floor of a warm fit: the least any warm fit on this stack
    costs, since it must import the stack, sample and write its draws.

For each pair it takes the ratio b / a of the wall time and of the CPU time (user + system
of the finished child, from ``os.wait4``: less sensitive than wall time to other processes
on a loaded machine) and prints the medians beside the target (<= 1.5) and the goal (1).
It also prints whether the warm fit imported PyMC or PyTensor (it should not: a hit by
structure key needs only numba, nutpie and NumPy; ``srsbayes.inference.cache``) and the
load average, so a figure can be read against how busy the machine was.

Usage::

    .venv/bin/python benchmarks/bench_warm_fit.py              # 3 pairs, fit lmd
    .venv/bin/python benchmarks/bench_warm_fit.py --runs 5 --outcome os --json warm.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
TARGET_RATIO = 1.5
GOAL_RATIO = 1.0


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of ``cmd`` as a whole process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 3):  # 3: the gate failed, still a whole fit
            err.seek(0)
            text = err.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(cmd)} exited {code}:\n{text[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="pairs to time (default 3)")
    parser.add_argument("--outcome", default="lmd")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_warm_fit_") as tmp:
        env = {**os.environ}
        env.setdefault("SRSBAYES_CACHE_DIR", str(Path(tmp) / "cache"))
        out = Path(tmp) / "fit"
        fit = [PY, "-m", "srsbayes", "fit", args.outcome, "--out", str(out)]
        pymc = [PY, "-c", "import pymc"]
        modules = Path(tmp) / "modules.txt"
        timed(fit, env)  # fills the cache (a miss when it was empty)
        timed(fit, {**env, "SRSBAYES_DEBUG_MODULES": str(modules)})  # a warm hit
        loaded = set(modules.read_text().split())
        heavy = sorted({m.split(".")[0] for m in loaded} & {"pymc", "pytensor"})
        timed(pymc, env)  # warm the file-system cache for the yardstick too
        stack = [PY, str(Path(__file__).with_name("floors.py")), "--stack"]
        own = [PY, str(Path(__file__).with_name("floors.py")), "--import", str(modules)]
        timed(stack, env)  # warm the file-system cache for the floors too
        work = json.loads(subprocess.run(
            [PY, str(Path(__file__).with_name("floors.py")), "--work", args.outcome], cwd=ROOT,
            env=env, capture_output=True, text=True, check=True).stdout)
        rows = []
        for _ in range(args.runs):
            a = timed(pymc, env)
            b = timed(fit, env)
            c = timed(stack, env)
            d = timed(own, env)
            rows.append({"import_pymc": a, "warm_fit": b, "stack_floor": c, "import_floor": d})

    def med(key: str, i: int) -> float:
        return statistics.median(r[key][i] for r in rows)

    ratio_wall = statistics.median(r["warm_fit"][0] / r["import_pymc"][0] for r in rows)
    ratio_cpu = statistics.median(r["warm_fit"][1] / r["import_pymc"][1] for r in rows)
    floor = {key: statistics.median(r[key][0] / r["import_pymc"][0] for r in rows)
             for key in ("stack_floor", "import_floor")}
    extra = work["sampling"] + work["writing"]
    floor["fit_floor"] = statistics.median((r["stack_floor"][0] + extra) / r["import_pymc"][0]
                                           for r in rows)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / "
          f"{load[2]:.1f} (1 / 5 / 15 min); {args.runs} pairs, medians")
    print(f"(a) import pymc          wall {med('import_pymc', 0):6.2f} s   "
          f"cpu {med('import_pymc', 1):6.2f} s")
    print(f"(b) warm fit {args.outcome:<11} wall {med('warm_fit', 0):6.2f} s   "
          f"cpu {med('warm_fit', 1):6.2f} s")
    print(f"warm fit / import pymc   wall {ratio_wall:6.2f} x   cpu {ratio_cpu:6.2f} x   "
          f"target <= {TARGET_RATIO} x, goal {GOAL_RATIO} x")
    print(f"(c) stack floor          wall {med('stack_floor', 0):6.2f} s   "
          f"cpu {med('stack_floor', 1):6.2f} s   / (a) {floor['stack_floor']:.2f} x: the least "
          "any warm fit on this stack imports")
    print(f"(d) this fit's imports   wall {med('import_floor', 0):6.2f} s   "
          f"cpu {med('import_floor', 1):6.2f} s   / (a) {floor['import_floor']:.2f} x; "
          f"srsbayes' own work (b) - (d): {med('warm_fit', 0) - med('import_floor', 0):.2f} s")
    print(f"(e) sampling {work['sampling']:.2f} s + writing the draws {work['writing']:.2f} s; "
          f"fit floor (c) + (e) / (a) {floor['fit_floor']:.2f} x: the least any warm fit on "
          "this stack costs")
    if floor["fit_floor"] > TARGET_RATIO:
        print(f"the target <= {TARGET_RATIO} x lies below the fit floor "
              f"({floor['fit_floor']:.2f} x): no warm fit on this stack can meet it here")
    print("warm fit imported: " + (", ".join(heavy) if heavy else "neither PyMC nor PyTensor"))
    if args.json:
        args.json.write_text(json.dumps({
            "runs": rows, "ratio_wall": ratio_wall, "ratio_cpu": ratio_cpu, "floors": floor,
            "work": work, "target": TARGET_RATIO, "goal": GOAL_RATIO, "imported": heavy,
            "loadavg": load}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
