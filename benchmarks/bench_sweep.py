"""Benchmark: one fit, the default sweep, the same sweep as a plain PyMC loop, 250 fits.

Every measurement is the wall time of a whole process (``python ...`` started by this
script), so imports and model compilation count:

(a) ``python -m srsbayes fit OUTCOME``
(b) ``python -m srsbayes sweep OUTCOME``
(c) the same settings as (b) (the default prior grid plus the rounding and
    leave-one-out data), one fresh ``pm.Model`` with ordinary PyMC distributions and one
    ``pm.sample`` call (PyMC's own NUTS) per setting, same draws, tuning, chains and
    target acceptance
(d) 250 fits in one process: 50 prior settings (10 effect × 5 heterogeneity priors) for
    each of the 5 bundled outcomes, through :func:`srsbayes.sweep.run_sweep` with
    ``refit_all`` (every setting a fit) and the compiled-model cache (no data-level rows, no
    power-scaling)

Each is repeated ``--runs`` times, interleaved, and the medians are printed with the
ratios the targets are about: (b)/(a) <= 3, (c)/(b), and (d) <= 60 s (issue 15; 120 s before it).

Usage::

    .venv/bin/python benchmarks/bench_sweep.py              # 3 runs of (a)-(d)
    .venv/bin/python benchmarks/bench_sweep.py --quick      # (c) once, others 3 times
    .venv/bin/python benchmarks/bench_sweep.py --skip-naive --runs 5
    .venv/bin/python benchmarks/bench_sweep.py --cold       # fresh PyTensor cache per process

``--cold`` points PyTensor's compile directory (and so its Numba cache) at a fresh
temporary folder for every process; by default the user's ``~/.pytensor`` cache is used
(warm after the first run).
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

EFFECT_SDS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
"""Normal(0, s) effect priors of the 250-fit grid (10 × 5 τ priors = 50 settings)."""


# -- child modes -----------------------------------------------------------------------------


def _pymc_prior(name: str, prior, dims: str | None = None):
    """The ordinary PyMC distribution for ``prior`` (inside a model)."""
    import pymc as pm

    from srsbayes.priors.distributions import DISTRIBUTIONS

    code, (a, b, c) = prior.canonical()
    dist = next(k for k, v in DISTRIBUTIONS.items() if v.code == code)
    match dist:
        case "normal":
            return pm.Normal(name, a, b, dims=dims)
        case "studentt":
            return pm.StudentT(name, nu=a, mu=b, sigma=c, dims=dims)
        case "uniform":
            return pm.Uniform(name, a, b, dims=dims)
        case "halfnormal":
            return pm.HalfNormal(name, a, dims=dims)
        case "halfcauchy":
            return pm.HalfCauchy(name, a, dims=dims)
        case "halfstudentt":
            return pm.HalfStudentT(name, nu=a, sigma=b, dims=dims)
        case "lognormal":
            return pm.LogNormal(name, a, b, dims=dims)
    raise ValueError(dist)


def naive_loop(outcome: str, draws: int, tune: int, chains: int, seed: int) -> None:
    """(c): the default sweep's settings, each a fresh PyMC model and a pm.sample call."""
    import numpy as np
    import pymc as pm

    from srsbayes.families import get_family
    from srsbayes.inference.fitting import resolve_priors
    from srsbayes.inputs.data import default_table, outcome_table
    from srsbayes.inputs.specs import load_specs
    from srsbayes.sensitivity.sweep import SWEEP_TARGET_ACCEPT, default_grid
    from srsbayes.sensitivity.variants import leave_one_out, rounding_variants

    specs = load_specs()
    spec = specs[outcome]
    if spec.family != "binomial":
        raise SystemExit("the PyMC loop is written for binomial outcomes")
    table = default_table(specs)
    wide = outcome_table(table, spec)
    fam = get_family(spec.family)
    jobs = [(resolve_priors(spec, wide, dict(s.priors)), wide)
            for s in default_grid(spec).settings]
    base = resolve_priors(spec, wide)
    jobs += [(base, v.wide) for v in rounding_variants(wide, spec.family, spec.sign)
             + leave_one_out(wide)]
    t0 = time.perf_counter()
    probs = []
    for priors, w in jobs:
        d = fam.model_data(w)
        k = len(w)
        with pm.Model(coords={"study": np.arange(k)}):
            theta = _pymc_prior("effect", priors["effect"])
            tau = _pymc_prior("tau", priors["tau"])
            alpha = _pymc_prior("baseline", priors["baseline"], dims="study")
            z = pm.Normal("z", 0.0, 1.0, dims="study")
            pm.Binomial("events_postop", n=d["n_postop"], logit_p=alpha, observed=d["y_postop"])
            pm.Binomial("events_preop", n=d["n_preop"], logit_p=alpha + theta + tau * z,
                        observed=d["y_preop"])
            idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, 2),
                              random_seed=seed, target_accept=SWEEP_TARGET_ACCEPT,
                              progressbar=False)
        post = idata["posterior"]["effect"].values
        probs.append(float((spec.sign * post > 0).mean()))
    print(json.dumps({"fits": len(jobs), "seconds": time.perf_counter() - t0,
                      "prob_benefit": probs}))


def _fifty(spec, table, seed: int) -> dict:
    """The 50-setting grid of one outcome (10 effect × 5 τ priors), without data-level rows."""
    from srsbayes.families import FAMILIES
    from srsbayes.inference.fitting import FitSettings
    from srsbayes.priors.distributions import parse_prior
    from srsbayes.sensitivity.sweep import Grid, Setting, run_sweep

    t0 = time.perf_counter()
    taus = [parse_prior(t) for t in FAMILIES[spec.family].default_grid["tau"]]
    settings = [Setting(f"N(0, {s:g}) / {t}", {"effect": parse_prior(f"normal(0, {s})"),
                                              "tau": t})
                for s in EFFECT_SDS for t in taus]
    # refit_all: 250 fits, as issue 15 states the target (by default most of these prior
    # settings would be computed from the reference fit by importance sampling)
    res = run_sweep(table, spec, Grid(tuple(settings), data_level=False, psense=False),
                    FitSettings(seed=seed), refit_all=True)
    return {"fits": len(res.rows), "sampler_runs": int(res.rows["attempts"].sum()),
            "converged": int(res.rows["ok"].sum()), "seconds": time.perf_counter() - t0}


def many_fits(seed: int) -> None:
    """(d): 50 prior settings × 5 outcomes through run_sweep and one compiled-model cache."""
    from srsbayes.inference.fitting import DEFAULT_CACHE, model_data, model_structure
    from srsbayes.inputs.data import default_table, outcome_table
    from srsbayes.inputs.specs import load_specs

    specs = load_specs()
    table = default_table(specs)
    t0 = time.perf_counter()
    # One structure per family here (every outcome has 4 studies; the binomial ones all
    # have count sets of at most two counts). The first is compiled now, the others in a
    # background thread while the first family's outcomes sample (nutpie releases the
    # GIL), as run_sweep does with its leave-one-out structure.
    order = sorted(specs.values(), key=lambda s: s.family != "binomial")

    def key_of(spec) -> tuple:
        wide = outcome_table(table, spec)
        return (spec.family, len(wide), model_structure(spec.family, model_data(spec, wide)))

    key = {s.id: key_of(s) for s in order}
    structures = list(dict.fromkeys(key.values()))
    DEFAULT_CACHE.get(*structures[0])
    per_outcome = {}
    with ThreadPoolExecutor(1) as bg:
        later = bg.submit(lambda: [DEFAULT_CACHE.get(*k) for k in structures[1:]])
        for spec in order:
            if key[spec.id] != structures[0]:
                later.result()
            per_outcome[spec.id] = _fifty(spec, table, seed)
    totals = {k: sum(r[k] for r in per_outcome.values())
              for k in ("fits", "sampler_runs", "converged")}
    print(json.dumps({**totals, "seconds": time.perf_counter() - t0,
                      "per_outcome": {k: r["seconds"] for k, r in per_outcome.items()},
                      "compiled_structures": len(DEFAULT_CACHE)}))


# -- driver ----------------------------------------------------------------------------------


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed, proc.stdout


def _env(cold: bool, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    if cold:
        fresh = tempfile.mkdtemp(prefix="pytensor-", dir=tmp)
        env["PYTENSOR_FLAGS"] = f"base_compiledir={fresh}"
    return env


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="repetitions of each measurement")
    p.add_argument("--outcome", default="lmd", help="outcome for (a)-(c) (binomial)")
    p.add_argument("--quick", action="store_true", help="run the slow PyMC loop (c) once")
    p.add_argument("--skip-naive", action="store_true", help="leave out (c)")
    p.add_argument("--skip-many", action="store_true", help="leave out (d)")
    p.add_argument("--cold", action="store_true",
                   help="fresh PyTensor compile cache for every process")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--mode", choices=("naive", "many"), help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=20260226)
    args = p.parse_args(argv)
    if args.mode == "naive":
        naive_loop(args.outcome, 1000, 1000, 4, args.seed)
        return 0
    if args.mode == "many":
        many_fits(args.seed)
        return 0

    here = str(Path(__file__).resolve())
    times: dict[str, list[float]] = {"fit": [], "sweep": [], "naive": [], "many": []}
    extra: dict[str, list] = {"sweep_rows": [], "naive": [], "many": []}
    with tempfile.TemporaryDirectory(prefix="srsbayes-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for run in range(args.runs):
            env = _env(args.cold, tmp)
            t, _ = _timed([PY, "-m", "srsbayes", "fit", args.outcome, "--out",
                           str(tmp / "fit")], env)
            times["fit"].append(t)
            print(f"run {run + 1}: (a) fit {t:.1f} s", flush=True)
            env = _env(args.cold, tmp)
            t, _ = _timed([PY, "-m", "srsbayes", "sweep", args.outcome, "--out",
                           str(tmp / "sweep")], env)
            times["sweep"].append(t)
            doc = json.loads((tmp / "sweep" / "sweep.json").read_text(encoding="utf-8"))
            extra["sweep_rows"].append(len(doc["rows"]))
            print(f"run {run + 1}: (b) sweep {t:.1f} s ({len(doc['rows'])} settings, "
                  f"{sum(r['attempts'] for r in doc['rows'])} sampler runs)", flush=True)
            if not args.skip_naive and (run == 0 or not args.quick):
                env = _env(args.cold, tmp)
                t, out = _timed([PY, here, "--mode", "naive", "--outcome", args.outcome,
                                 "--seed", str(args.seed)], env)
                times["naive"].append(t)
                extra["naive"].append(json.loads(out.strip().splitlines()[-1]))
                print(f"run {run + 1}: (c) PyMC loop {t:.1f} s", flush=True)
            if not args.skip_many:
                env = _env(args.cold, tmp)
                t, out = _timed([PY, here, "--mode", "many", "--seed", str(args.seed)], env)
                times["many"].append(t)
                info = json.loads(out.strip().splitlines()[-1])
                extra["many"].append(info)
                print(f"run {run + 1}: (d) {info['fits']} fits {t:.1f} s "
                      f"({info['sampler_runs']} sampler runs, {info['converged']} converged)",
                      flush=True)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    print()
    print(f"machine: {os.cpu_count()} cores; load average at end "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"PyTensor cache: {'cold (fresh per process)' if args.cold else 'warm (~/.pytensor)'}")
    print(f"{'measurement':<52} {'median s':>9}  runs")
    names = {"fit": f"(a) python -m srsbayes fit {args.outcome}",
             "sweep": f"(b) python -m srsbayes sweep {args.outcome}",
             "naive": "(c) same settings, PyMC model + pm.sample each",
             "many": "(d) 250 fits (50 settings x 5 outcomes), one process"}
    for k, name in names.items():
        if k in med:
            runs = ", ".join(f"{x:.1f}" for x in times[k])
            print(f"{name:<52} {med[k]:>9.1f}  {runs}")
    print()
    ratios = {}
    if "fit" in med and "sweep" in med:
        ratios["sweep_over_fit"] = med["sweep"] / med["fit"]
        print(f"(b)/(a) sweep / fit          = {ratios['sweep_over_fit']:.2f}   (target <= 3)")
    if "naive" in med and "sweep" in med:
        ratios["naive_over_sweep"] = med["naive"] / med["sweep"]
        print(f"(c)/(b) PyMC loop / sweep    = {ratios['naive_over_sweep']:.1f}")
    if "many" in med:
        print(f"(d) 250 fits                 = {med['many']:.1f} s (target <= 60 s, issue 15)")
    if args.json:
        args.json.write_text(json.dumps({"times": times, "medians": med, "ratios": ratios,
                                         "extra": extra, "cold": args.cold,
                                         "loadavg": os.getloadavg()}, indent=2),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
