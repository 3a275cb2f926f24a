"""Benchmark: every figure of issues 15 and 25 in one run, each with its target beside it.

One table, ``measurement | median | runs | target | met?``, of whole processes started by
this script (interpreter start, imports, compilation or cache load, sampling, writing):

(a) ``python -c "import pymc"``, the floor the ``fit`` target is stated against;
(b) ``python -m srsbayes fit OUTCOME`` with a warm compile cache, and (b)/(a) (issue 25:
    <= 1.5, goal 1; issue 15: <= 3);
the fit floor: the stack floor (``floors.py --stack``: the least any warm fit on the decided
stack must import) plus one NUTS run and writing its draws (``floors.py --work``), against
(a): the lowest (b)/(a) any implementation can reach here;
(c) the same with an empty compile cache (a fresh ``$SRSBAYES_CACHE_DIR`` per run);
brms (first fit and ``update()``) and metafor's ``rma.glmm`` on the same data, when
``Rscript`` with both packages is installed; otherwise "not installed" and, labelled as
quoted, the figures issue 15 gives, with (b) against brms' quoted first fit (target >= 10x);
``python -m srsbayes report --out TMP`` (``make report``'s command), warm (target <= 45 s);
``python -m srsbayes sweep OUTCOME`` (the default sweep: importance sampling where valid)
and sweep / (b) (issue 25: <= 1.5) beside its floor (one fit plus the NUTS runs issue 25's
rule cannot serve by importance sampling, ``floors.py``), and ``sweep OUTCOME --refit-all``
(every row refitted, the sweep before issue 25) beside it;
250 fits in one process (``bench_sweep.py``'s (d); target <= 60 s);
the k series (``bench_fit.py``'s :func:`~bench_fit.k_point`: the binomial model on simulated
data, compiled for the structure the data are fitted with, ``DEFAULT_CACHE.for_data``,
and one gated fit) for k = 4, 22, 100 and 1000 (k = 1000 in the first round only; target:
converges in <= 60 s, cache hit + sampling);
the default sweep and ``--sims`` SBC data sets (``validate``'s) in this process and on a Dask
``LocalCluster`` of 1 and 2 workers: scaling efficiency, per-task overhead and memory per
worker (``bench_parallel.py``, run once after the rounds).

"Warm" is the compile cache the commands use by default (``$SRSBAYES_CACHE_DIR`` as set, else
``~/.cache/srsbayes``) after one unmeasured run of each command; the k series uses its own
cache folder, filled by one unmeasured compile per k (whose time is printed as the cold
compile). Runs are interleaved ((a), (b), (c), report, sweeps, 250 fits, k series, then
again) so slow drifts in machine load hit every measurement alike: measure on an idle
machine, or read the ratios rather than the seconds. The measuring code is
``bench_fit.py``'s, ``bench_sweep.py``'s and ``bench_parallel.py``'s. No test depends on a
timing.

Usage::

    .venv/bin/python benchmarks/bench_all.py                 # 3 rounds, 200 SBC data sets
    .venv/bin/python benchmarks/bench_all.py --quick         # 1 round; no cold fit, no 250
                                                             # fits, no k = 1000, 20 SBC sets
    .venv/bin/python benchmarks/bench_all.py --runs 5 --json all.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import bench_fit  # the sibling scripts (this folder is on sys.path when run as a script)
import bench_sweep
import floors
from bench_fit import PY, env_with, timed

TARGET_REPORT = 45.0
TARGET_MANY = 60.0
TARGET_BRMS = 10.0
TARGET_RATIO_25 = 1.5
"""Issue 25: warm ``fit`` <= 1.5 x ``import pymc`` (goal 1 x)."""
TARGET_SWEEP = 1.5
"""Issue 25: the default sweep <= 1.5 x one warm fit."""
BRMS_QUOTED = {"first fit": [47.4, 47.8, 47.9], "update": [0.9, 1.3], "metafor": [0.09]}
"""Issue 15's figures, measured by its author on this project's 2-core machine earlier
(brms first fit min/median/max; ``update()`` range; metafor in process). Quoted, not
measured here."""
BRMS_QUOTED_MEDIAN = 47.8
Runs = dict[str, list[Any]]


# -- child mode: compile one k-series structure (fills the k series' cache) ----------------


def compile_point(k: int) -> None:
    """Compile (or load) the structure ``bench_fit.simulate(k)`` is fitted with; print seconds."""
    from srsbayes.inference import compile_cache
    from srsbayes.inference.fitting import DEFAULT_CACHE

    data = bench_fit.simulate(k)
    t0 = time.perf_counter()
    DEFAULT_CACHE.for_data("binomial", data)
    print(json.dumps({"k": k, "compile": time.perf_counter() - t0,
                      "cache": dict(compile_cache.STATS)}))


# -- R: brms and metafor, when installed --------------------------------------------------

R_SCRIPT = r"""
suppressMessages({library(brms); library(metafor)})
d <- read.csv(commandArgs(TRUE)[1])
d$study <- factor(d$study)
pri <- c(prior(normal(0, 2.5), class = b), prior(normal(0, 1.5), class = b, coef = arm),
         prior(normal(0, 0.5), class = sd))
f <- bf(y | trials(n) ~ 0 + study + arm + (0 + arm | study))
t0 <- proc.time()[["elapsed"]]
fit <- brm(f, data = d, family = binomial(), prior = pri, chains = 4, iter = 2000,
           seed = 20260226, refresh = 0, silent = 2)
t1 <- proc.time()[["elapsed"]]
fit2 <- update(fit, newdata = d, recompile = FALSE, seed = 20260227, refresh = 0, silent = 2)
t2 <- proc.time()[["elapsed"]]
w <- reshape(d, idvar = "study", timevar = "arm_name", direction = "wide",
             drop = "arm")
m <- rma.glmm(measure = "OR", ai = y.preop, n1i = n.preop, ci = y.postop, n2i = n.postop,
              data = w, model = "UM.FS")
t3 <- proc.time()[["elapsed"]]
cat(sprintf('{"first fit": %.3f, "update": %.3f, "metafor": %.3f}\n', t1 - t0, t2 - t1,
            t3 - t2))
"""
"""The same model as the binomial family (arms coded -1/2 and +1/2, a fixed log-odds per
study, a normal random effect on the log odds ratio, the bundled LMD priors) on the
nearest counts, in brms; ``update()`` reuses the compiled Stan model; metafor's
``rma.glmm`` is the frequentist counterpart. Not run on the development machine (no R)."""


def r_available() -> bool:
    """Whether ``Rscript`` and the R packages brms and metafor are installed."""
    if shutil.which("Rscript") is None:
        return False
    check = "quit(status = !all(sapply(c('brms', 'metafor'), requireNamespace, quietly = TRUE)))"
    return subprocess.run(["Rscript", "-e", check], capture_output=True,
                          check=False).returncode == 0


def lmd_counts_csv(outcome: str, path: Path) -> None:
    """The outcome's arms as ``study, arm_name, arm (-1/2, +1/2), n, y`` (nearest counts)."""
    import csv

    data = _model_data(outcome)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["study", "arm_name", "arm", "n", "y"])
        for i in range(len(data["n_preop"])):
            for arm, code in (("postop", -0.5), ("preop", 0.5)):
                out.writerow([f"s{i + 1}", arm, code, data[f"n_{arm}"][i], data[f"y_{arm}"][i]])


def _model_data(outcome: str) -> dict[str, Any]:
    """The bundled outcome's model data (``fit``'s ``model_data``)."""
    from srsbayes.inference.fitting import model_data
    from srsbayes.inputs.data import default_table, outcome_table
    from srsbayes.inputs.specs import load_specs

    specs = load_specs()
    spec = specs[outcome]
    return model_data(spec, outcome_table(default_table(specs), spec))


# -- one round of every measurement -------------------------------------------------------


def one_round(i: int, args: argparse.Namespace, tmp: Path, res: Runs, r: dict | None) -> None:
    """Run (a), (b), (c), R, report, sweep, 250 fits and the k series once each.

    A process that fails is reported and left out of its row (``res["failed"]``), so that
    one failure (the checkout is shared) does not lose the rest of the run."""
    fit = [PY, "-m", "srsbayes", "fit", args.outcome, "--out", str(tmp / "fit")]
    warm = env_with()

    def measure(name: str, cmd: list[str], env: dict[str, str], parse: bool = False) -> None:
        try:
            seconds, line = timed(cmd, env)
        except SystemExit as exc:
            print(f"  FAILED, left out: {name}: {str(exc)[:500]}", flush=True)
            res.setdefault("failed", []).append(f"round {i + 1}: {name}")
            return
        res.setdefault(name, []).append(json.loads(line) if parse else seconds)
        if parse and name == "250 fits info":
            res.setdefault("250 fits", []).append(seconds)

    measure("import pymc", [PY, "-c", "import pymc"], env_with())
    measure("fit, warm", fit, warm)
    measure("stack floor", [PY, floors.__file__, "--stack"], env_with())
    if not args.quick:
        measure("fit, cold", fit, env_with(SRSBAYES_CACHE_DIR=str(tmp / f"cold{i}")))
    if r is not None:
        measure("R", ["Rscript", str(r["script"]), str(r["csv"])], env_with(), parse=True)
    measure("report", [PY, "-m", "srsbayes", "report", "--out", str(tmp / "report")], warm)
    measure("sweep", [PY, "-m", "srsbayes", "sweep", args.outcome, "--out",
                      str(tmp / "sweep")], warm)
    measure("sweep, refit all", [PY, "-m", "srsbayes", "sweep", args.outcome, "--refit-all",
                                 "--out", str(tmp / "sweep-all")], warm)
    if not args.quick:
        measure("250 fits info", [PY, bench_sweep.__file__, "--mode", "many", "--seed",
                                  str(args.seed)], warm, parse=True)
    k_env = env_with(SRSBAYES_CACHE_DIR=str(tmp / "kseries"))
    for k in ks(args, i):
        measure(f"k={k}", [PY, bench_fit.__file__, "--child-k", str(k), "--outcome",
                           args.outcome], k_env, parse=True)
    print(f"  round {i + 1} done, {time.strftime('%H:%M:%S', time.gmtime())} UTC, load "
          f"{os.getloadavg()[0]:.2f}", flush=True)


def ks(args: argparse.Namespace, i: int) -> list[int]:
    """The k series of round ``i``: k = 1000 only in the first ``--k1000-runs`` rounds (none
    with ``--quick``)."""
    extra = [1000] if not args.quick and i < args.k1000_runs else []
    return [*bench_fit.K_SERIES, *extra]


def warm_up(args: argparse.Namespace, tmp: Path) -> dict[Any, dict]:
    """Unmeasured runs that fill the compile caches; returns the k series' cold compiles, and
    under ``"refit"`` and ``"required_refits"`` the sweep floor's measurements
    (:func:`floors.refit_cpu`, :func:`floors.required_refits` of the warm-up sweep)."""
    warm = env_with()
    timed([PY, "-m", "srsbayes", "fit", args.outcome, "--out", str(tmp / "fit")], warm)
    timed([PY, "-m", "srsbayes", "report", "--out", str(tmp / "report")], warm)
    timed([PY, "-m", "srsbayes", "sweep", args.outcome, "--out", str(tmp / "sweep")], warm)
    timed([PY, "-m", "srsbayes", "sweep", args.outcome, "--refit-all", "--out",
           str(tmp / "sweep-all")], warm)
    _, line = timed([PY, floors.__file__, "--refit-cpu", args.outcome], warm)
    _, work = timed([PY, floors.__file__, "--work", args.outcome], warm)
    cold = {"refit": json.loads(line), "work": json.loads(work),
            "required_refits": floors.required_refits(tmp / "sweep" / "sweep.json")}
    k_env = env_with(SRSBAYES_CACHE_DIR=str(tmp / "kseries"))
    for k in ks(args, 0):
        _, line = timed([PY, __file__, "--child-compile", str(k)], k_env)
        cold[k] = json.loads(line)
    print(f"  warm-up done, {time.strftime('%H:%M:%S', time.gmtime())} UTC", flush=True)
    return cold


# -- the table ------------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


def runs_text(values: list[float], digits: int = 2) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def timing_row(name: str, values: list[float], target: str = "—", met: str = "—") -> list[str]:
    return [name, f"{med(values):.2f} s", runs_text(values), target, met]


def fit_rows(res: Runs, outcome: str, cold: dict[Any, dict] | None = None
             ) -> list[list[str]]:
    """(a), (b), (b)/(a), the fit floor and (c)."""
    a, b = res["import pymc"], res["fit, warm"]
    ratio = med(b) / med(a)
    rows = [timing_row('(a) `python -c "import pymc"`', a),
            timing_row(f"(b) `python -m srsbayes fit {outcome}`, warm cache", b,
                       f"≤ 3 × (a) = {bench_fit.TARGET_RATIO * med(a):.2f} s",
                       verdict(ratio <= bench_fit.TARGET_RATIO)),
            [r"(b) / (a)", f"{ratio:.2f} ×", runs_text([y / x for x, y in zip(a, b, strict=False)]),
             f"≤ {bench_fit.TARGET_RATIO:g} × (issue 15); ≤ {TARGET_RATIO_25:g} × (issue 25, "
             "goal 1 ×)", f"{verdict(ratio <= bench_fit.TARGET_RATIO)}; "
             f"{verdict(ratio <= TARGET_RATIO_25)}"]]
    if "stack floor" in res and "work" in (cold or {}):
        f, work = res["stack floor"], cold["work"]
        extra = work["sampling"] + work["writing"]
        floor = (med(f) + extra) / med(a)
        rows += [timing_row("stack floor: `floors.py --stack` (imports only)", f),
                 ["fit floor: stack floor + one NUTS run + writing its draws",
                  f"{med(f) + extra:.2f} s", f"sampling {work['sampling']:.2f} s, writing "
                  f"{work['writing']:.2f} s (`floors.py --work`)", "—", "—"],
                 ["fit floor / (a)", f"{floor:.2f} ×", runs_text([(y + extra) / x for x, y in zip(
                     a, f, strict=False)]), "the lowest (b) / (a) any warm fit on this stack "
                  "can reach", "issue 25's target below the floor: unattainable here"
                  if floor > TARGET_RATIO_25 else "target above the floor"]]
    if "fit, cold" in res:
        rows.append(timing_row(f"(c) `fit {outcome}`, empty compile cache", res["fit, cold"]))
    return rows


def r_rows(res: Runs) -> list[list[str]]:
    """brms and metafor: measured, or 'not installed' and issue 15's quoted figures."""
    b = med(res["fit, warm"])
    if "R" in res:
        got = {name: [run[name] for run in res["R"]] for name in BRMS_QUOTED}
        first = med(got["first fit"])
        return [timing_row("brms first fit (Stan compile), in process", got["first fit"]),
                timing_row("brms `update()`, no recompile, in process", got["update"]),
                timing_row("metafor `rma.glmm`, in process", got["metafor"]),
                ["brms first fit / (b)", f"{first / b:.1f} ×", "", f"≥ {TARGET_BRMS:g} ×",
                 verdict(first / b >= TARGET_BRMS)]]
    q = BRMS_QUOTED
    ratio = BRMS_QUOTED_MEDIAN / b
    return [["brms first fit (Stan compile)", "not installed",
             f"*quoted from issue 15:* {runs_text(q['first fit'], 1)} s", "—", "—"],
            ["brms `update()`, no recompile", "not installed",
             f"*quoted from issue 15:* {q['update'][0]}–{q['update'][1]} s", "—", "—"],
            ["metafor `rma.glmm`, in process", "not installed",
             f"*quoted from issue 15:* {q['metafor'][0]} s", "—", "—"],
            ["quoted brms first fit (47.8 s) / (b)", f"{ratio:.1f} ×",
             "against the quoted figure, not a brms run here", f"≥ {TARGET_BRMS:g} ×",
             verdict(ratio >= TARGET_BRMS)]]


def sweep_floor_row(fit: float, cold: dict[Any, dict]) -> list[list[str]]:
    """The default sweep's floor: one fit plus the refits issue 25's rule requires plus the
    figure's matplotlib import."""
    if "refit" not in cold:
        return []
    need, cpu = cold["required_refits"], cold["refit"]["cpu"]
    mpl = cold["refit"].get("matplotlib_import", 0.0)
    n = sum(need.values())
    cores = os.cpu_count() or 1
    floor = floors.sweep_floor(fit, n, cpu, cores, mpl)
    why = ", ".join(f"{v} {k}" for k, v in need.items())
    return [["sweep floor / (b): 1 + (refits × CPU per refit / cores + matplotlib import) / (b)",
             f"{floor:.2f} ×", f"{n} refits required ({why}); {cpu:.2f} CPU s each; {cores} "
             f"cores; matplotlib import {mpl:.2f} s", f"≤ {TARGET_SWEEP:g} × (issue 25)",
             "target below the floor: unattainable here" if floor > TARGET_SWEEP
             else "target above the floor"]]


def rest_rows(res: Runs, outcome: str, quick: bool, cold: dict[Any, dict] | None = None
              ) -> list[list[str]]:
    """report, the default sweep against one fit and its floor (and the full refit sweep),
    250 fits."""
    rep = med(res["report"])
    fit = med(res["fit, warm"])
    sweep_ratio = med(res["sweep"]) / fit
    rows = [timing_row("`python -m srsbayes report --out TMP`, warm cache", res["report"],
                       f"≤ {TARGET_REPORT:g} s", verdict(rep <= TARGET_REPORT)),
            timing_row(f"`python -m srsbayes sweep {outcome}` (default: PSIS where valid)",
                       res["sweep"], f"≤ {TARGET_SWEEP:g} × (b) = {TARGET_SWEEP * fit:.2f} s",
                       verdict(sweep_ratio <= TARGET_SWEEP)),
            ["sweep / (b)", f"{sweep_ratio:.2f} ×",
             runs_text([y / x for x, y in zip(res["fit, warm"], res["sweep"], strict=False)]),
             f"≤ {TARGET_SWEEP:g} × (issue 25)", verdict(sweep_ratio <= TARGET_SWEEP)],
            *sweep_floor_row(fit, cold or {})]
    if "sweep, refit all" in res:
        full = res["sweep, refit all"]
        rows += [timing_row(f"`sweep {outcome} --refit-all` (every row refitted)", full),
                 ["sweep --refit-all / (b)", f"{med(full) / fit:.2f} ×", "", "— (before)",
                  "—"]]
    if "250 fits" in res:
        info = res["250 fits info"]
        conv = ", ".join(f"{d['converged']}/{d['fits']}" for d in info)
        many = res["250 fits"]
        rows.append(timing_row(f"250 fits, one process (converged: {conv})", many,
                               f"≤ {TARGET_MANY:g} s", verdict(med(many) <= TARGET_MANY)))
    elif quick:
        rows.append(["250 fits, one process", "not measured (--quick)", "", f"≤ {TARGET_MANY:g} s",
                     "—"])
    return rows


def dask_rows(par: dict[str, Any] | None) -> list[list[str]]:
    """The default sweep and SBC on a LocalCluster of 1 and 2 workers (bench_parallel.py)."""
    if not par:
        return [["Dask LocalCluster, 1 and 2 workers", "not measured", "", "—", "—"]]
    rows = []
    for fig in par.values():
        rss = ", ".join(f"{m:.0f}" for m in fig["rss_1"] + fig["rss_2"])
        rows += [[f"{fig['name']}: in process / 1 worker / 2 workers",
                  f"{fig['in_process']:.1f} / {fig['workers_1']:.1f} / {fig['workers_2']:.1f} s",
                  "1 run each, cluster start-up included", "—", "—"],
                 [f"{fig['name']}: scaling efficiency t1 / (2 t2)", f"{fig['efficiency']:.2f}",
                  "", "— (1 = perfect)", "—"],
                 [f"{fig['name']}: per-task overhead (t1 − in process) / tasks",
                  f"{fig['overhead']:.3f} s", f"{fig['tasks']} tasks", "—", "—"],
                 [f"{fig['name']}: memory per worker (RSS after its tasks)", f"{rss} MB",
                  "1 worker; then 2 workers", "—", "—"]]
    return rows


def run_parallel(args: argparse.Namespace, tmp: Path) -> dict[str, Any] | None:
    """``bench_parallel.py`` once (its figures as a dict; None when it failed)."""
    out = tmp / "parallel.json"
    sims = 20 if args.quick else args.sims
    try:
        timed([PY, str(Path(__file__).with_name("bench_parallel.py")), "--sims", str(sims),
               "--outcome", args.outcome, "--json", str(out)], env_with())
    except SystemExit as exc:
        print(f"  FAILED, left out: Dask benchmark: {str(exc)[:500]}", flush=True)
        return None
    return json.loads(out.read_text(encoding="utf-8"))


def first_tune(k: int) -> int:
    """The tuning length of a first attempt at ``k`` binomial studies; the gate's retry uses
    more (``FitSettings.retry``). (``bench_fit.py``'s own ``retried`` flag compares with
    ``FitSettings().tune``, which is None since tuning became per family, so it is always set.)
    """
    from srsbayes.inference.fitting import FitSettings

    return FitSettings().resolved("binomial", k).tune


def k_rows(res: Runs, cold: dict[int, dict]) -> list[list[str]]:
    """The k series: compile (cache hit; the cold compile in brackets), sampling, gate."""
    rows = []
    for k in sorted(int(n[2:]) for n in res if n.startswith("k=")):  # cold: int keys
        pts = res[f"k={k}"]
        comp, samp = [p["compile"] for p in pts], [p["sampling"] for p in pts]
        total = [c + s for c, s in zip(comp, samp, strict=True)]
        passed = sum(p["ok"] for p in pts)
        retried = sum(p["tune"] != first_tune(k) for p in pts)
        gate = f"gate {passed}/{len(pts)} passed, {retried} retried"
        target, met = "—", gate
        if k == 1000:
            target = f"converges in ≤ {bench_fit.TARGET_K1000:g} s (hit + sampling)"
            ok = passed == len(pts) and med(total) <= bench_fit.TARGET_K1000
            met = f"{verdict(ok)} ({gate})"
        rows.append([f"k = {k}: compile (cache hit) / sampling",
                     f"{med(comp):.2f} s / {med(samp):.2f} s",
                     f"compile {runs_text(comp)} (cold {cold[k]['compile']:.1f}); "
                     f"sampling {runs_text(samp)}", target, met])
    return rows


def table(res: Runs, cold: dict[int, dict], outcome: str, quick: bool = False,
          par: dict[str, Any] | None = None) -> str:
    k1000 = ([["k = 1000: compile (cache hit) / sampling", "not measured (--quick)", "",
               f"converges in ≤ {bench_fit.TARGET_K1000:g} s (hit + sampling)", "—"]]
             if quick and "k=1000" not in res else [])
    rows = (fit_rows(res, outcome, cold) + r_rows(res) + rest_rows(res, outcome, quick, cold)
            + k_rows(res, cold) + k1000 + dask_rows(par))
    lines = ["| measurement | median | runs | target | met? |", "|---|---:|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def machine_line() -> str:
    """Cores, CPU model, Python and the versions the timings depend on."""
    versions = ", ".join(f"{p} {version(p)}" for p in ("nutpie", "pymc", "numba", "pytensor"))
    return f"{bench_fit.machine()}; {versions}"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="1 run; no cold-cache fit, no 250 fits, no k = 1000, 20 SBC sets")
    parser.add_argument("--k1000-runs", type=int, default=1,
                        help="rounds with k = 1000 (default: %(default)s)")
    parser.add_argument("--outcome", default="lmd")
    parser.add_argument("--sims", type=int, default=200,
                        help="SBC data sets on Dask (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=20260226)
    parser.add_argument("--json", type=Path, default=None, help="also write every run here")
    parser.add_argument("--child-compile", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_compile is not None:
        compile_point(args.child_compile)
        return
    if args.quick:
        args.runs = 1
    print(f"machine: {machine_line()}\nload average before: {load()}", flush=True)
    before = load()
    res: Runs = {}
    with tempfile.TemporaryDirectory(prefix="srsbayes-bench-all-") as tmpdir:
        tmp = Path(tmpdir)
        r = None
        if r_available():
            (tmp / "fit.R").write_text(R_SCRIPT)
            lmd_counts_csv(args.outcome, tmp / "counts.csv")
            r = {"csv": tmp / "counts.csv", "script": tmp / "fit.R"}
        cold = warm_up(args, tmp)
        for i in range(args.runs):
            one_round(i, args, tmp, res, r)
        par = run_parallel(args, tmp)
    after = load()
    if args.json:  # the raw runs first, so that they survive any error in the table
        args.json.write_text(json.dumps({"machine": machine_line(), "load_before": before,
                                         "load_after": after, "runs": res,
                                         "k_cold_compile": cold, "dask": par}, indent=1,
                                        default=str))
    text = table(res, cold, args.outcome, args.quick, par)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine_line()}")
    print(f"load average (1, 5, 15 min) before {before}, after {after}; "
          f"R with brms and metafor: {'installed' if r else 'not installed'}\n")
    print(text)
    if res.get("failed"):
        print("\nleft out (the process failed): " + "; ".join(res["failed"]))


if __name__ == "__main__":
    main()
