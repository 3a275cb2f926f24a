"""Benchmark: a whole-process ``fit`` with a cold and a warm compile cache, and the k series.

Every figure but the k series is the wall time of a whole process started by this script
(interpreter start, imports, compilation or cache load, sampling, checks, writing):

(a) ``python -c "import pymc"``: the floor the ``fit`` target is stated against
(b) ``python -m srsbayes fit OUTCOME`` with an empty compile cache (a fresh
    ``$SRSBAYES_CACHE_DIR`` for every run; PyTensor's own cache stays as it is)
(c) the same with a warm compile cache (one unmeasured run fills it first)
(c') the same command through :func:`srsbayes.cli.main.run`, which skips the interpreter's
     teardown at exit (0.5-1 s once PyMC, nutpie, numba and ArviZ are loaded)

Target (issue 15): (c) <= 3 x (a).

``--phases`` adds where a warm fit's time goes: one process per run, wall time of the
imports, building the PyMC model, the compile-cache hit, sampling with the gate, ``derive``
(the absolute effects and the baseline model), the rest of ``fit_outcome`` (checks and
summary), writing, and the exit, timed around the functions ``fit`` calls.

The k series (d) fits the binomial model to simulated data (see :func:`simulate`) with
k = 4, 22, 100 studies (and 1000 with ``--k1000``), one process per run, and prints the
compile time (cache hit or miss, as reported), the sampling time of the gated fit
(retry included) and the gate's verdict. Target: k = 1000 converges in <= 60 s.

Runs are interleaved ((a), (b), (c), then again) so slow drifts in machine load hit every
measurement alike; medians are printed. No test depends on a timing.

Usage::

    .venv/bin/python benchmarks/bench_fit.py                # 3 runs of each, k = 4, 22, 100
    .venv/bin/python benchmarks/bench_fit.py --runs 5 --k1000
    .venv/bin/python benchmarks/bench_fit.py --skip-k --json fit.json
    .venv/bin/python benchmarks/bench_fit.py --skip-k --skip-cold --phases
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
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
K_SERIES = (4, 22, 100)
TARGET_RATIO = 3.0
TARGET_K1000 = 60.0


# -- child mode: one point of the k series --------------------------------------------------


def simulate(k: int, seed: int = 20260226) -> dict:
    """Binomial two-arm data for ``k`` simulated studies (not real data).

    Arm sizes 30-200, baseline log-odds N(-1.5, 0.5), log odds ratio -0.5 with
    between-study SD 0.3: roughly the bundled local-control outcomes' scale.
    """
    import numpy as np

    rng = np.random.default_rng([seed, k])
    n = rng.integers(30, 201, size=(2, k))
    alpha = rng.normal(-1.5, 0.5, k)
    theta = -0.5 + 0.3 * rng.standard_normal(k)
    p_post, p_pre = 1 / (1 + np.exp(-alpha)), 1 / (1 + np.exp(-(alpha + theta)))
    return {"n_postop": n[0], "n_preop": n[1],
            "y_postop": rng.binomial(n[0], p_post), "y_preop": rng.binomial(n[1], p_pre)}


def k_point(k: int, outcome: str) -> None:
    """Compile (or load) the binomial model for ``k`` studies and run one gated fit."""
    from srsbayes.inference import compile_cache
    from srsbayes.inference.fitting import DEFAULT_CACHE, FitSettings, resolve_priors, sample_gated
    from srsbayes.inputs.data import default_table, outcome_table
    from srsbayes.inputs.specs import load_specs

    specs = load_specs()
    spec = specs[outcome]
    priors = resolve_priors(spec, outcome_table(default_table(specs), spec))
    data = simulate(k)
    t0 = time.perf_counter()
    DEFAULT_CACHE.for_data(spec.family, data)  # the structure these data are fitted with
    t1 = time.perf_counter()
    _, diag, used = sample_gated(spec.family, data, priors, FitSettings(), DEFAULT_CACHE)
    t2 = time.perf_counter()
    print(json.dumps({"k": k, "compile": t1 - t0, "sampling": t2 - t1, "ok": bool(diag.ok),
                      "cache": dict(compile_cache.STATS), "tune": used.tune,
                      "retried": used.tune != FitSettings().resolved(spec.family, k).tune}))


def phases_point(outcome: str) -> None:
    """One warm ``fit OUTCOME`` in this process, timed around the functions it calls."""
    t0 = time.perf_counter()
    from srsbayes.cli import fit as cli_fit
    from srsbayes.cli.main import main

    cli_fit.import_sampler()
    import pymc  # noqa: F401  (imported by the model builders on first use)

    from srsbayes.families import binomial, contrast, lognormal_median
    from srsbayes.inference import compile_cache, fitting

    spent: dict[str, float] = {"imports": time.perf_counter() - t0}

    def timer(owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        @functools.wraps(inner)  # keeps the signature, which fitting inspects
        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start
        setattr(owner, name, timed_call)

    for family in (binomial, lognormal_median, contrast):
        timer(family, "build_model", "build model")
    timer(compile_cache, "compile_model", "compile (cache)")
    timer(fitting, "sample_gated", "sample + gate")
    timer(fitting, "derive", "derive")
    timer(fitting, "fit_outcome", "fit_outcome")
    timer(fitting, "write_fit", "write")
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        main(["fit", outcome, "--out", out])
        spent["whole command"] = time.perf_counter() - start
    inner = ("sample + gate", "derive")
    spent["checks + summary"] = spent.pop("fit_outcome") - sum(spent.get(k, 0) for k in inner)
    spent["sample + gate"] -= spent.get("compile (cache)", 0) + spent.get("build model", 0)
    print(json.dumps(spent))


# -- parent ----------------------------------------------------------------------------------


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one whole process, and its last line of output."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 3):  # 3 = a fit that failed its gate: still timed
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    lines = proc.stdout.strip().splitlines()
    return seconds, lines[-1] if lines else ""


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}, "
            f"load average {load:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} s  [{', '.join(f'{v:.2f}' for v in values)}]"


RUN = "import sys; from srsbayes.cli.main import run; run(sys.argv[1:])"


def whole_process(outcome: str, runs: int, tmp: Path, cold: bool = True
                  ) -> dict[str, list[float]]:
    """(a)-(c'), interleaved."""
    out = str(tmp / "out")
    args = ["fit", outcome, "--out", out]
    fit = [PY, "-m", "srsbayes", *args]
    warm_env = env_with(SRSBAYES_CACHE_DIR=str(tmp / "warm"))
    timed(fit, warm_env)  # fill the warm cache (not counted)
    res: dict[str, list[float]] = {"import pymc": [], "fit, cold cache": [],
                                   "fit, warm cache": [], "fit, warm, run()": []}
    if not cold:
        del res["fit, cold cache"]
    for i in range(runs):
        res["import pymc"].append(timed([PY, "-c", "import pymc"], env_with())[0])
        if cold:
            cold_env = env_with(SRSBAYES_CACHE_DIR=str(tmp / f"cold{i}"))
            res["fit, cold cache"].append(timed(fit, cold_env)[0])
        res["fit, warm cache"].append(timed(fit, warm_env)[0])
        res["fit, warm, run()"].append(timed([PY, "-c", RUN, *args], warm_env)[0])
        print(f"  run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in res.items()),
              flush=True)
    return res


def k_series(ks: tuple[int, ...], runs: int, outcome: str, tmp: Path) -> list[dict]:
    env = env_with(SRSBAYES_CACHE_DIR=str(tmp / "kseries"))
    rows = []
    for k in ks:
        points = []
        for _ in range(runs):
            _, line = timed([PY, __file__, "--child-k", str(k), "--outcome", outcome], env)
            points.append(json.loads(line))
        rows.append({"k": k, "compile": [p["compile"] for p in points],
                     "sampling": [p["sampling"] for p in points],
                     "ok": [p["ok"] for p in points], "cache": [p["cache"] for p in points],
                     "retried": [p["retried"] for p in points]})
        print(f"  k = {k}: done", flush=True)
    return rows


def phases(outcome: str, runs: int, tmp: Path) -> dict[str, list[float]]:
    """Where a warm fit's time goes (``--phases``), one process per run."""
    env = env_with(SRSBAYES_CACHE_DIR=str(tmp / "warm"))
    timed([PY, __file__, "--child-phases", "--outcome", outcome], env)  # warm the cache
    res: dict[str, list[float]] = {}
    for _ in range(runs):
        t0 = time.perf_counter()
        _, line = timed([PY, __file__, "--child-phases", "--outcome", outcome], env)
        wall = time.perf_counter() - t0
        point = json.loads(line)
        point["interpreter start + exit"] = wall - point["imports"] - point["whole command"]
        for k, v in point.items():
            res.setdefault(k, []).append(v)
    return res


def report(res: dict[str, list[float]], rows: list[dict],
           split: dict[str, list[float]] | None = None) -> None:
    print(f"\nmachine: {machine()}")
    if res:
        print("\nwhole processes (median [runs]):")
        for name, vals in res.items():
            print(f"  {name:18s} {fmt(vals)}")
        pymc = statistics.median(res["import pymc"])
        for name in ("fit, warm cache", "fit, warm, run()"):
            ratio = statistics.median(res[name]) / pymc
            met = "met" if ratio <= TARGET_RATIO else "NOT met"
            print(f"  {name} / import pymc = {ratio:.2f}  (target <= {TARGET_RATIO:g}: {met})")
        if "fit, cold cache" in res:
            gain = (statistics.median(res["fit, cold cache"])
                    / statistics.median(res["fit, warm cache"]))
            print(f"  cold fit / warm fit    = {gain:.2f}")
    if split:
        print("\nwarm fit, wall time by phase (median [runs]):")
        for name, vals in split.items():
            print(f"  {name:24s} {fmt(vals)}")
    if rows:
        print("\nk series, binomial model on simulated data (median [runs]):")
        for r in rows:
            target = f"target <= {TARGET_K1000:g} s" if r["k"] == 1000 else "target -"
            gate = "all pass" if all(r["ok"]) else f"{sum(r['ok'])}/{len(r['ok'])} pass"
            retried = sum(r["retried"])
            print(f"  k = {r['k']:4d}: compile {fmt(r['compile'])}; sampling {fmt(r['sampling'])}"
                  f"; gate {gate}, {retried} retried; {target}")
            print(f"          cache: {r['cache']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--outcome", default="lmd")
    parser.add_argument("--k1000", action="store_true", help="add k = 1000 to the k series")
    parser.add_argument("--skip-k", action="store_true", help="no k series")
    parser.add_argument("--skip-fit", action="store_true", help="only the k series")
    parser.add_argument("--skip-cold", action="store_true", help="no cold-cache fits (b)")
    parser.add_argument("--phases", action="store_true",
                        help="also time the phases of a warm fit (one process per run)")
    parser.add_argument("--child-phases", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--child-k", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_k is not None:
        k_point(args.child_k, args.outcome)
        return
    if args.child_phases:
        phases_point(args.outcome)
        return
    with tempfile.TemporaryDirectory(prefix="srsbayes-bench-") as tmpdir:
        tmp = Path(tmpdir)
        res = ({} if args.skip_fit
               else whole_process(args.outcome, args.runs, tmp, cold=not args.skip_cold))
        split = phases(args.outcome, args.runs, tmp) if args.phases else None
        ks = K_SERIES + ((1000,) if args.k1000 else ())
        rows = [] if args.skip_k else k_series(ks, args.runs, args.outcome, tmp)
    report(res, rows, split)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "whole_process": res,
                                         "phases": split, "k_series": rows}, indent=1))


if __name__ == "__main__":
    main()
