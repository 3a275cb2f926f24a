"""Benchmark: how the binomial fit scales with the number of studies k (issue 15, item 4).

For k = 4 (the bundled LMD data) and k = 22, 100, 1000 (simulated, :func:`simulate`) it
prints the compile time (:class:`~srsbayes.inference.fitting.ModelCache`, disk cache hit
or miss), the sampling time of the first attempt and the gate's verdict, for the settings
``fit`` uses (``FitSettings()`` read through ``sample_posterior``) and, with
``--variants``, for the alternatives measured for issue 15:

``diag``
    nutpie's default diagonal mass-matrix adaptation (the setting before issue 15).
``low_rank``
    nutpie's low-rank modified mass matrix (``adaptation="low_rank"``), which learns the
    few directions in which the posterior is correlated.
``draws x2``
    twice the draws with the diagonal mass matrix.
``pc w=...``
    a partially centred copy of the model (:func:`build_partial`; ``w`` = 0 non-centred,
    1 centred, ``rule`` = :func:`w_rule`), with the diagonal or low-rank mass matrix.

Target (issue 15): k = 1000 converges in <= 60 s. Timings on a shared machine vary, so
every figure is the median of ``--runs`` runs (seeds differ between runs). No test depends
on a timing.

Usage::

    .venv/bin/python benchmarks/bench_scaling.py                 # fit's settings, 3 runs
    .venv/bin/python benchmarks/bench_scaling.py --variants --k 1000 --runs 3

References
----------
Papaspiliopoulos O, Roberts GO, Sköld M (2007). A general framework for the
parametrization of hierarchical models. Stat Sci 22:59-73.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

K_SERIES = (4, 22, 100, 1000)
TARGET_SECONDS = {1000: 60.0}
"""Issue 15's target: the k = 1000 fit converges (compile + sampling) within 60 s."""
TAU_TRUE = 0.3
"""Between-study SD of the simulated log odds ratios (a stated choice, not a data value)."""


# -- data -----------------------------------------------------------------------------------


def lmd_design() -> tuple[dict[str, np.ndarray], Any, dict[str, Any]]:
    """The bundled LMD outcome: its model data, its spec and its resolved priors."""
    from srsbayes.families import get_family
    from srsbayes.inference.fitting import resolve_priors
    from srsbayes.inputs.data import DEFAULT_DATA, outcome_table, read_table
    from srsbayes.inputs.specs import load_specs
    from srsbayes.resources import BUNDLED_MODELS

    specs = load_specs(BUNDLED_MODELS)
    spec = specs["lmd"]
    wide = outcome_table(read_table(DEFAULT_DATA, specs), spec)
    return get_family(spec.family).model_data(wide), spec, resolve_priors(spec, wide)


def _logit(y: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.log((y + 0.5) / (n - y + 0.5))  # Haldane-Anscombe correction for zero cells


def simulate(k: int, design: dict[str, np.ndarray], seed: int) -> tuple[dict[str, np.ndarray],
                                                                         float]:
    """Binomial two-arm data for ``k`` simulated studies shaped like the bundled LMD data.

    Arm sizes are drawn (with replacement) from the bundled arms; each study's arm-average
    log-odds ``alpha_i ~ N(m, s)`` with ``m``, ``s`` the mean and SD of the bundled studies'
    empirical arm-average log-odds; the true log odds ratio ``theta`` is the bundled
    studies' pooled crude log odds ratio and ``tau`` = :data:`TAU_TRUE`; the likelihood
    uses the ±1/2 arm coding of :mod:`srsbayes.families.binomial`. Counts are exact (a
    count set of width 1). Returns the model data and the true ``theta``.
    """
    rng = np.random.default_rng([seed, k])
    n_arms = np.concatenate([design["n_postop"], design["n_preop"]])
    y_c, n_c, y_t, n_t = (design[f"{v}_{a}"] for a in ("postop", "preop") for v in ("y", "n"))
    alpha_obs = 0.5 * (_logit(y_c, n_c) + _logit(y_t, n_t))
    theta = float(np.log(y_t.sum() / (n_t - y_t).sum()) - np.log(y_c.sum() / (n_c - y_c).sum()))
    alpha = rng.normal(alpha_obs.mean(), alpha_obs.std(ddof=1), k)
    delta = TAU_TRUE * rng.standard_normal(k)
    logits = {"postop": alpha - 0.5 * (theta + delta), "preop": alpha + 0.5 * (theta + delta)}
    data: dict[str, np.ndarray] = {}
    for arm in ("postop", "preop"):
        n = rng.choice(n_arms, k).astype(np.int64)
        y = rng.binomial(n, 1 / (1 + np.exp(-logits[arm]))).astype(np.int64)
        data |= {f"n_{arm}": n, f"y_{arm}": y, f"k_below_{arm}": np.zeros(k, np.int64),
                 f"k_width_{arm}": np.ones(k, np.int64)}
    return data, theta


# -- the partially centred prototype -------------------------------------------------------


def w_rule(data: dict[str, np.ndarray], tau0: float) -> np.ndarray:
    """Per-study centring weight ``w_i = tau0^2 I_i / (1 + tau0^2 I_i)``.

    ``I_i`` is study i's information about its log odds ratio (the inverse of the
    empirical variance ``sum 1/(y + 1/2) + 1/(n - y + 1/2)`` over both arms) and ``tau0`` a
    reference between-study SD. For a normal hierarchy this is the weight that makes the
    parametrisation's Gibbs sampler converge fastest (Papaspiliopoulos et al. 2007, sec.
    3): data that say little about a study's deviation (``I_i tau0^2`` small) call for the
    non-centred form (w near 0), informative studies for the centred one (w near 1).
    """
    var = sum(1 / (data[f"y_{a}"] + 0.5) + 1 / (data[f"n_{a}"] - data[f"y_{a}"] + 0.5)
              for a in ("postop", "preop"))
    info = tau0**2 / var
    return info / (1 + info)


def build_partial(k: int, priors: dict[str, Any], likelihood: str = "count_set"):
    """A copy of the binomial model with ``delta_i = tau^(1-w_i) u_i``, ``u_i ~ N(0, tau^w_i)``.

    ``w`` is ``pm.Data`` (dims ``study``), so one compiled model serves the non-centred
    (``w = 0``, the family's model), the centred (``w = 1``) and every partial form. The
    likelihood is the family's count-set likelihood (``count_set``), so sampling costs
    compare, or the plain binomial of exact counts (``binomial``), which shows what a
    likelihood that calls ``betainc`` only for rows with a count set would cost.
    """
    import pymc as pm

    from srsbayes.families import ARMS
    from srsbayes.families.binomial import _count_set_logp, arm_data
    from srsbayes.priors.distributions import prior_slot

    with pm.Model(coords={"study": np.arange(k)}) as model:
        n, y, below, width = arm_data(k)
        w = pm.Data("centring", np.zeros(k), dims="study")
        theta = prior_slot("effect", priors["effect"], "real")
        tau = prior_slot("tau", priors["tau"], "positive")
        alpha = prior_slot("baseline", priors["baseline"], "real", dims="study")
        z = pm.Normal("z", 0.0, tau**w, dims="study")
        delta = pm.Deterministic("delta", tau ** (1 - w) * z, dims="study")
        logit_c = alpha - 0.5 * (theta + delta)
        logits = {"postop": logit_c, "preop": logit_c + theta + delta}
        for arm in ARMS:
            if likelihood == "binomial":
                logp = pm.logp(pm.Binomial.dist(n[arm], logit_p=logits[arm]), y[arm])
            else:
                logp = _count_set_logp(n[arm], y[arm] - below[arm], width[arm], logits[arm])
            pm.Potential(f"events_{arm}", logp.sum())
    return model


# -- one fit ------------------------------------------------------------------------------


def gate(idata: Any) -> Any:
    """The convergence gate on the binomial family's diagnostic variables."""
    from srsbayes.families import get_family
    from srsbayes.inference.diagnostics import check_convergence

    return check_convergence(idata, get_family("binomial").DIAGNOSTIC_VARS)


def run_library(data: dict[str, np.ndarray], priors: dict[str, Any], seed: int,
                overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """First attempt of ``fit``'s sampler call (``sample_posterior``) with its default settings."""
    from srsbayes.inference.fitting import DEFAULT_CACHE, FitSettings, sample_posterior

    t0 = time.perf_counter()
    # the structure sample_posterior fits these data with (exact counts: plain binomial,
    # else count sets), so that the compile column times that model
    DEFAULT_CACHE.for_data("binomial", data)
    compile_s = time.perf_counter() - t0
    settings = replace(FitSettings(), seed=seed, **(overrides or {}))
    t0 = time.perf_counter()
    idata = sample_posterior("binomial", data, priors, settings)
    return _record(idata, compile_s, time.perf_counter() - t0)


def _record(idata: Any, compile_s: float, sample_s: float) -> dict[str, Any]:
    d = gate(idata)
    post = idata["posterior"]
    return {"compile": compile_s, "sample": sample_s, "ok": d.ok, "failures": list(d.failures),
            "ess_bulk": d.ess_bulk_min, "rhat": d.rhat_max,
            "theta_mean": float(post["effect"].mean()), "theta_sd": float(post["effect"].std())}


_PARTIAL: dict[tuple[int, str], Any] = {}


def run_partial(data: dict[str, np.ndarray], priors: dict[str, Any], seed: int, w: np.ndarray,
                adaptation: str, draws: int = 1000, tune: int = 1000,
                likelihood: str = "count_set") -> dict[str, Any]:
    """One run of the partially centred prototype (compiled once per k, nutpie's own compile)."""
    import nutpie

    from srsbayes.priors.distributions import slot_data

    k = len(data["n_postop"])
    t0 = time.perf_counter()
    if (k, likelihood) not in _PARTIAL:
        _PARTIAL[k, likelihood] = nutpie.compile_pymc_model(build_partial(k, priors, likelihood))
    compile_s = time.perf_counter() - t0
    values = dict(data, centring=np.asarray(w, dtype=float))
    for slot, prior in priors.items():
        values.update(slot_data(slot, prior))
    if likelihood == "binomial":  # exact counts only: no count-set data
        values = {k: v for k, v in values.items() if not k.startswith(("k_below", "k_width"))}
    compiled = _PARTIAL[k, likelihood].with_data(**values)
    t0 = time.perf_counter()
    idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=4, seed=seed,
                          progress_bar=False, target_accept=0.95, save_warmup=False,
                          adaptation=adaptation)
    return _record(idata, compile_s, time.perf_counter() - t0)


Variant = Callable[[dict[str, np.ndarray], dict[str, Any], int, np.ndarray], dict[str, Any]]

VARIANTS: dict[str, Variant] = {
    "library diag": lambda d, p, s, w: run_library(d, p, s, {"adaptation": "diag"}),
    "library low_rank": lambda d, p, s, w: run_library(d, p, s, {"adaptation": "low_rank"}),
    "library draws x2": lambda d, p, s, w: run_library(d, p, s, {"adaptation": "diag",
                                                                  "draws": 2000}),
    "library tune 1000": lambda d, p, s, w: run_library(d, p, s, {"tune": 1000}),
    "pc w=0 diag": lambda d, p, s, w: run_partial(d, p, s, 0 * w, "diag"),
    "pc w=rule diag": lambda d, p, s, w: run_partial(d, p, s, w, "diag"),
    "pc w=rule low_rank": lambda d, p, s, w: run_partial(d, p, s, w, "low_rank"),
    "pc w=1 diag": lambda d, p, s, w: run_partial(d, p, s, 0 * w + 1, "diag"),
    "binomial w=0 diag": lambda d, p, s, w: run_partial(d, p, s, 0 * w, "diag",
                                                         likelihood="binomial"),
    "binomial w=0 low_rank": lambda d, p, s, w: run_partial(d, p, s, 0 * w, "low_rank",
                                                             likelihood="binomial"),
    "binomial w=rule diag": lambda d, p, s, w: run_partial(d, p, s, w, "diag",
                                                            likelihood="binomial"),
    "binomial w=0 diag tune 300": lambda d, p, s, w: run_partial(
        d, p, s, 0 * w, "diag", tune=300, likelihood="binomial"),
}
"""The measured alternatives (see the module docstring): ``library`` = ``sample_posterior``
with one setting changed, ``pc`` = :func:`build_partial` with the family's likelihood,
``binomial`` = :func:`build_partial` with the exact-count binomial likelihood."""


def variants(names: list[str], data: dict[str, np.ndarray], priors: dict[str, Any], seed: int
             ) -> dict[str, dict[str, Any]]:
    """The named alternatives (``all``: every one) on one data set."""
    rule = w_rule(data, float(priors["tau"].scipy().ppf(0.5)))  # tau0: the prior median
    chosen = list(VARIANTS) if names == ["all"] else names
    return {name: VARIANTS[name](data, priors, seed, rule) for name in chosen}


# -- driver -------------------------------------------------------------------------------


def dataset(k: int, run: int) -> tuple[dict[str, np.ndarray], float | None]:
    """The bundled LMD data for k = 4, else simulated data (a new data set per run)."""
    design, _, _ = lmd_design()
    if k == 4:
        return design, None
    return simulate(k, design, seed=20260226 + run)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over runs, and how many runs passed the gate; the compile (or disk-cache
    load) happens in the first run of a process only, so that one is shown."""
    return {"compile": rows[0]["compile"],
            "sample": statistics.median(r["sample"] for r in rows),
            "passed": sum(r["ok"] for r in rows), "runs": len(rows),
            "ess_bulk": statistics.median(r["ess_bulk"] for r in rows),
            "rhat": statistics.median(r["rhat"] for r in rows)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=list(K_SERIES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", nargs="*", default=[], metavar="NAME",
                        help=f"also measure these alternatives, or all: {', '.join(VARIANTS)}")
    parser.add_argument("--skip-defaults", action="store_true",
                        help="measure only the --variants, not fit's own settings")
    parser.add_argument("--json", help="write every run's figures here")
    args = parser.parse_args(argv)
    _, _, priors = lmd_design()
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for k in args.k:
        for run in range(args.runs):
            data, theta = dataset(k, run)
            rows = ({} if args.skip_defaults
                    else {"fit defaults": run_library(data, priors, seed=1000 + run)})
            rows |= variants(args.variants, data, priors, seed=1000 + run)
            for name, rec in rows.items():
                rec["theta_true"] = theta
                raw.setdefault(f"{k}", {}).setdefault(name, []).append(rec)
                print(json.dumps({"k": k, "run": run, "setting": name, **rec}), flush=True)
    print(f"\n{'k':>5} {'setting':<27} {'compile s':>9} {'sampling s':>10} {'gate':>6} "
          f"{'ESS':>6} {'R-hat':>6}  target")
    for k, by_setting in raw.items():
        for name, rows in by_setting.items():
            s = summarise(rows)
            target = TARGET_SECONDS.get(int(k))
            total = s["compile"] + s["sample"]
            verdict = "" if target is None else (
                f"converges in <= {target:.0f} s: "
                f"{'met' if s['passed'] == s['runs'] and total <= target else 'NOT met'}"
                f" ({total:.1f} s)")
            print(f"{k:>5} {name:<27} {s['compile']:>9.2f} {s['sample']:>10.2f} "
                  f"{s['passed']}/{s['runs']:<4} {s['ess_bulk']:>6.0f} {s['rhat']:>6.3f}  "
                  f"{verdict}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(raw, fh, indent=1)


if __name__ == "__main__":
    main()
