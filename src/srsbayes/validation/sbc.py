"""Simulation-based calibration (SBC) of the model families, and the uniformity tests it needs.

For each simulated data set the parameters are drawn from the priors, data are drawn
from the likelihood with the design of the bundled studies (four studies, the bundled
arm sizes and follow-up), and the model is fitted exactly as ``fit`` does it (the
compiled model of :mod:`srsbayes.inference.fitting`, the convergence gate and its one retry).
The rank of each true value among ``L`` thinned posterior draws is then uniform on
``0..L`` if, and only if on average over the prior, the computed posterior is the true
one (Talts et al. 2018). Uniformity is tested with the simultaneous ECDF test of
Säilynoja, Bürkner & Vehtari (2022); a chi-square test on binned ranks is reported
alongside. Besides θ, τ and one study's baseline, the ranks of the data's
log-likelihood are checked: Modrák et al. (2023) show this data-dependent test quantity
detects errors that the marginal parameter ranks miss.

The data are simulated by each family's SBC simulator
(:meth:`srsbayes.families.base.Family.sbc_simulate`, kept in a module of its own such as
:mod:`srsbayes.families.binomial_sbc`), from the model equations written out in the
family's docstring, not by the family's own ``simulate``: a likelihood coded wrongly in both
places would otherwise go unnoticed. Binary data are reported as the bundled data report
them, as whole percentages, and the model sees only the counts those allow.

How small an error the test can see is measured, not assumed: a negative control fits the
same simulations with a τ prior :data:`TAU_CONTROL_FACTOR` times wider than the one they
were simulated from (:func:`widened`), which a test of adequate power rejects.

The contrast (normal-normal) family has no bundled outcome: its design is derived from the
bundled LMD data by a stated rule (its ``sbc_design``:
:func:`srsbayes.families.contrast.log_or_se_design`), its priors are
:data:`srsbayes.families.contrast.CONTRAST_SBC_PRIORS`. Its posterior also
has an exact form (quadrature over τ), so besides the NUTS SBC it gets an exact-posterior
SBC (:func:`run_exact_sbc`): the PIT of the truth under the exact posterior CDF, the
continuous limit of the rank, which needs no sampling and so checks the quadrature itself
on many data sets.

References
----------
Talts S, Betancourt M, Simpson D, Vehtari A, Gelman A (2018). Validating Bayesian
inference algorithms with simulation-based calibration. arXiv:1804.06788.

Modrák M, Moon AH, Kim S, Bürkner P-C, Huurre N, Faltejsková K, Gelman A, Vehtari A
(2023). Simulation-based calibration checking for Bayesian computation: the choice of
test quantities shapes sensitivity. Bayesian Anal, doi:10.1214/23-BA1404.

Säilynoja T, Bürkner P-C, Vehtari A (2022). Graphical test for discrete uniformity and
its applications in goodness-of-fit evaluation and multiple sample comparison.
Stat Comput 32:32.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from scipy.integrate import cumulative_trapezoid
from scipy.special import bdtr, bdtrc

from ..errors import TaskError
from ..families import FAMILIES, get_family
from ..families.base import Family, Truth
from ..inference.exact import NormalNormalPosterior, exact_reference
from ..inference.fitting import FitSettings, ModelCache, sample_gated
from ..parallel import Backend, map_tasks
from ..priors.distributions import Prior
from .uniformity import (  # noqa: F401  (the tests of uniformity, used and re-exported)
    N_NULL,
    chisq_uniformity_pvalue,
    ecdf_band,
    ecdf_uniformity_pvalue,
    eval_points,
    rank_ecdf,
)

L_DRAWS = 99
"""Thinned posterior draws per fit: ranks take the values 0..99 (100 equally likely values)."""

ALPHA = 0.01
"""Family-wise level of the uniformity tests (Bonferroni across the test quantities)."""

SBC_SETTINGS = replace(FitSettings(), cores=1)
"""The ``fit`` defaults (draws, tuning, chains, target acceptance), taken from
:class:`FitSettings` so SBC follows any change to them. Chains run one after another: for
these small models that is faster than starting threads for every fit (0.4 s vs 0.65 s)."""


class SBCFit(TypedDict):
    """One SBC data set's fit as ``sbc_<family>.json`` records it: its gate verdict and
    diagnostics, the truths (without the study deviations) and the simulated data."""

    sim: int
    seed: int
    ok: bool
    attempts: int
    failures: list[str]
    divergences: int
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    truth: dict[str, float | list[float]]
    data: dict[str, list[float]]


class Agreement(TypedDict):
    """:func:`nuts_exact_agreement`: the binomial p-value of every NUTS rank given its exact
    PIT, per quantity, and how many fall below the Bonferroni level."""

    data_sets: int
    p: dict[str, list[float]]
    level_each: float
    below_level: dict[str, int]
    smallest_p: float


# -- simulation: each family owns its simulator and SBC design ----------------------------------

def sbc_design(family: str, wide: pd.DataFrame, priors: dict[str, Prior]
               ) -> tuple[pd.DataFrame, dict[str, Prior]]:
    """The design and priors SBC uses for ``family``, given its ``sbc_outcome``'s table and
    spec priors: those themselves, or what the family's
    :meth:`~srsbayes.families.base.Family.sbc_design` derives from them."""
    return get_family(family).sbc_design(wide, priors)


def _sim_rng(family: str, seed: int, i: int) -> np.random.Generator:
    """The random stream of data set ``i`` (independent streams per family; the NUTS and the
    exact-posterior SBC of a family simulate the same data sets)."""
    return np.random.default_rng([seed, zlib.crc32(family.encode()), i])


# -- the SBC loop ----------------------------------------------------------------------------

def quantities(family: str, values: Truth | xr.Dataset,
                    data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The checked quantities: θ, τ, the first study's baseline (if the family has baselines),
    family extras and the log-likelihood.

    ``values`` is a posterior (dims chain, draw[, study]) or one set of true values.
    Returns flat arrays (one value per draw).
    """
    fam = get_family(family)
    if isinstance(values, dict):
        post = xr.Dataset({k: (("chain", "draw", "study") if np.ndim(v) else ("chain", "draw"),
                               np.reshape(v, (1, 1, *np.shape(v))))
                           for k, v in values.items()})
    else:
        post = values
    out = {"effect": post["effect"], "tau": post["tau"]}
    if "baseline" in FAMILIES[family].slots:  # the contrast family has none
        out["baseline[0]"] = post["baseline"].isel(study=0)
    for name in FAMILIES[family].extra_quantities:
        out[name] = post[name]
    loglik = sum(v.sum("study") for v in fam.loglik(post, data).values())
    out["loglik"] = loglik
    return {k: np.asarray(v.transpose("chain", "draw"), dtype=float).ravel()
            for k, v in out.items()}


def thin(draws: np.ndarray, n_keep: int = L_DRAWS) -> np.ndarray:
    """``n_keep`` evenly spaced draws (chains pooled chain by chain).

    With the gate's ESS >= 400 out of 4000 draws the autocorrelation time is at most 10;
    keeping every ~40th draw leaves effectively independent draws, as the ranks require
    (Talts et al. 2018, sec. 4.1).
    """
    idx = np.round(np.linspace(0, len(draws) - 1, n_keep)).astype(int)
    return draws[idx]


@dataclass
class SBCResult:
    """Ranks, thinned draws and diagnostics of one family's SBC run."""

    family: str
    outcome: str
    priors: dict[str, Prior]
    settings: FitSettings
    seed: int
    max_rank: int
    ranks: dict[str, np.ndarray]
    truths: dict[str, np.ndarray]
    thinned: dict[str, np.ndarray]  # (sims, L) per quantity, for the negative controls
    fits: list[SBCFit] = field(default_factory=list)
    seconds: float = 0.0
    fit_priors: dict[str, Prior] | None = None
    """Priors fitted with when they differ from ``priors`` (a negative control)."""

    @property
    def n_sims(self) -> int:
        return len(self.fits)

    @property
    def design(self) -> str:
        """Where the priors and design come from, in words (for printed lines and plots)."""
        return design_words(self.family, self.outcome)

    @property
    def title(self) -> str:
        return (f"SBC, {self.family} ({self.design}), {self.n_sims} data sets, "
                f"L = {self.max_rank}")

    def pvalues(self) -> dict[str, dict[str, float]]:
        """ECDF and chi-square uniformity p-values per quantity."""
        return {q: {"ecdf": ecdf_uniformity_pvalue(r, self.max_rank),
                    "chisq": chisq_uniformity_pvalue(r, self.max_rank)}
                for q, r in self.ranks.items()}

    @property
    def alpha_each(self) -> float:
        """Bonferroni level per quantity for a family-wise ``ALPHA``."""
        return ALPHA / len(self.ranks)

    def passed(self) -> dict[str, bool]:
        """Whether each quantity's ECDF test keeps uniformity at the Bonferroni level."""
        return {q: p["ecdf"] >= self.alpha_each for q, p in self.pvalues().items()}

    def gate_failures(self) -> list[SBCFit]:
        return [f for f in self.fits if not f["ok"]]

    def negative_controls(self) -> dict[str, dict[str, float]]:
        """ECDF p-values of ranks from deliberately wrong posteriors (the test must reject).

        ``shift_0.5sd`` / ``shift_1sd``: every draw moved up by 0.5 / 1 posterior SD (a
        biased posterior); ``scale_0.5``: draws shrunk halfway to their mean (an
        overconfident posterior, Talts et al. 2018 fig. 4).
        """
        out: dict[str, dict[str, float]] = {}
        for q, draws in self.thinned.items():
            truth = self.truths[q][:, None]
            mean, sd = draws.mean(axis=1, keepdims=True), draws.std(axis=1, keepdims=True)
            wrong = {"shift_0.5sd": draws + 0.5 * sd, "shift_1sd": draws + sd,
                     "scale_0.5": mean + 0.5 * (draws - mean)}
            out[q] = {name: ecdf_uniformity_pvalue((w < truth).sum(axis=1), self.max_rank)
                      for name, w in wrong.items()}
        return out


def _sbc_one(family: str, wide: pd.DataFrame, priors: dict[str, Prior],
             fit_priors: dict[str, Prior] | None, settings: FitSettings, seed: int, i: int,
             cache: ModelCache | None) -> tuple[dict[str, tuple[int, float, np.ndarray]],
                                                SBCFit]:
    """Data set ``i`` of :func:`run_sbc`: simulate, fit as ``fit`` does, rank the truths.

    Returns each quantity's (rank, truth, thinned draws) and the fit's record."""
    rng = _sim_rng(family, seed, i)
    truth, data = get_family(family).sbc_simulate(wide, priors, rng)
    fit_seed = int(rng.integers(2**31))
    # Exactly what ``fit`` does: sample, apply the gate, retry once with safer settings.
    idata, diag, _ = sample_gated(family, data, fit_priors or priors,
                                  replace(settings, seed=fit_seed), cache)
    post = idata["posterior"].to_dataset()
    draws = quantities(family, post, data)
    true_q = quantities(family, truth, data)
    out = {}
    for q, d in draws.items():
        kept = thin(d)
        out[q] = (int((kept < true_q[q][0]).sum()), float(true_q[q][0]), kept)
    fit: SBCFit = {
        "sim": i, "seed": fit_seed, "ok": diag.ok, "attempts": diag.attempts,
        "failures": list(diag.failures),
        "divergences": diag.divergences, "rhat_max": diag.rhat_max,
        "ess_bulk_min": diag.ess_bulk_min, "ess_tail_min": diag.ess_tail_min,
        "truth": {k: (np.round(v, 6).tolist() if np.ndim(v) else round(float(v), 6))
                  for k, v in truth.items() if k != "delta"},
        "data": {k: np.asarray(v).tolist() for k, v in data.items()},
    }
    return out, fit


def run_sbc(family: str, outcome: str, wide: pd.DataFrame, priors: dict[str, Prior], *,
            n_sims: int, seed: int, settings: FitSettings = SBC_SETTINGS,
            cache: ModelCache | None = None,
            progress: Callable[[int, int], None] | None = None,
            fit_priors: dict[str, Prior] | None = None,
            backend: Backend | None = None) -> SBCResult:
    """Simulate ``n_sims`` data sets from the priors and rank the truths among the posteriors.

    Parameters
    ----------
    family
        Likelihood family (its ``sbc_simulate`` draws the data sets).
    outcome
        Id of the outcome whose design (``wide``) and priors are used, for the record.
    wide
        The design: :func:`srsbayes.inputs.data.outcome_table` of the bundled data, whose arm
        sizes and follow-up every simulated data set keeps.
    priors
        The priors simulated from and fitted with.
    n_sims, seed
        Number of data sets, and the seed everything is derived from.
    settings
        Sampler settings; the gate and its one retry are applied as in ``fit``.
    fit_priors
        Priors to fit with, when they differ from those simulated from: a negative
        control (:func:`widened`), whose ranks the test should reject.
    backend
        Where the data sets are fitted (:mod:`srsbayes.parallel`): one after another in
        this process by default, or on Dask workers. Data set ``i`` draws from its own
        stream (``[seed, family, i]``), so the ranks are the same on every backend.

    Returns
    -------
    SBCResult
        Every simulated data set's ranks are kept, including those whose fit failed the
        convergence gate (dropping them would bias the ranks); ``fits`` records the gate's
        verdict on each.
    """
    ranks: dict[str, list[int]] = {}
    truths: dict[str, list[float]] = {}
    thinned: dict[str, list[np.ndarray]] = {}
    fits = []
    start = time.perf_counter()
    tasks = [(f"sbc-{family}-{seed}-{i}", (family, wide, priors, fit_priors, settings, seed, i,
                                           cache if backend is None else None))
             for i in range(n_sims)]
    done = (lambda n, total, _r: progress(n, total)) if progress else None
    results = map_tasks(_sbc_one, tasks, backend=backend or Backend("threads", workers=1),
                        progress=done)
    for res in results:
        if not res.ok:  # a data set without ranks would bias the test: stop, naming it
            raise TaskError(f"SBC data set {res.key} failed ({res.error}); no calibration "
                            "result is reported without it")
        one_ranks, fit = res.value
        for q, (rank, truth, kept) in one_ranks.items():
            ranks.setdefault(q, []).append(rank)
            truths.setdefault(q, []).append(truth)
            thinned.setdefault(q, []).append(kept)
        fits.append(fit)
    return SBCResult(
        family=family, outcome=outcome, priors=priors, settings=settings, seed=seed,
        max_rank=L_DRAWS,
        ranks={q: np.asarray(v) for q, v in ranks.items()},
        truths={q: np.asarray(v) for q, v in truths.items()},
        thinned={q: np.vstack(v) for q, v in thinned.items()},
        fits=fits, seconds=time.perf_counter() - start, fit_priors=fit_priors,
    )


def design_words(family: str, outcome: str) -> str:
    """``"lmd priors"``, or for a derived design its rule: ``"log_or_se design from lmd"``."""
    return get_family(family).sbc_design_words(outcome)


# -- exact-posterior SBC (families whose posterior is the normal-normal one) --------------------

def tau_cdf(post: NormalNormalPosterior, x: float) -> float:
    """Marginal posterior CDF of τ at ``x``: the trapezoidal integral of the grid density, as
    :meth:`NormalNormalPosterior.tau_quantile` inverts it."""
    c = cumulative_trapezoid(post.density, post.tau, initial=0.0)
    return float(np.interp(x, post.tau, c / c[-1]))


def exact_pit(fam: Family, truth: Truth, data: dict[str, np.ndarray],
              priors: dict[str, Prior]) -> dict[str, float]:
    """PIT of the true θ and τ under the exact posterior: ``P(θ <= θ_true | y)`` and
    ``P(τ <= τ_true | y)``, from the quadrature the convergence gate checks NUTS against
    (:func:`srsbayes.inference.exact.exact_reference`, fed by the family's
    ``normal_normal`` hook).

    Raises
    ------
    ValueError
        When the ``effect`` prior is not normal (there is then no exact posterior).
    """
    y, s = fam.normal_normal(data)
    ex = exact_reference(np.asarray(y, float), np.asarray(s, float), priors)
    if ex is None:
        raise ValueError(f"no exact posterior for an effect prior {priors['effect']}")
    return {"effect": ex.mu_cdf(float(truth["effect"])), "tau": tau_cdf(ex, float(truth["tau"]))}


def pit_ranks(u: np.ndarray, max_rank: int = L_DRAWS) -> np.ndarray:
    """PIT values in [0, 1] as ranks on ``0..max_rank``: ``floor(u (max_rank + 1))``.

    A uniform PIT gives uniform ranks, so the discrete ECDF test of the NUTS SBC applies
    unchanged (with ``max_rank + 1`` cells it loses only resolution finer than 1/100).
    """
    r = np.floor(np.asarray(u, dtype=float) * (max_rank + 1))
    return np.clip(r, 0, max_rank).astype(np.int64)


@dataclass
class ExactSBCResult:
    """PITs of the true θ and τ under the exact posterior, over simulated data sets.

    Talts et al. (2018) rank the truth among posterior draws; with the posterior CDF in
    closed form (up to quadrature) the rank's continuous limit, the PIT, needs no sampling.
    Uniformity over data simulated from the priors checks the quadrature that the gate
    holds every NUTS fit of the family to.
    """

    family: str
    outcome: str
    priors: dict[str, Prior]
    seed: int
    pit: dict[str, np.ndarray]
    seconds: float = 0.0
    fit_priors: dict[str, Prior] | None = None
    """Priors of the posterior when they differ from those simulated from (a control)."""
    max_rank: int = L_DRAWS

    @property
    def n_sims(self) -> int:
        return len(next(iter(self.pit.values())))

    @property
    def ranks(self) -> dict[str, np.ndarray]:
        """The PITs as ranks on ``0..max_rank`` (:func:`pit_ranks`)."""
        return {q: pit_ranks(u, self.max_rank) for q, u in self.pit.items()}

    @property
    def alpha_each(self) -> float:
        """Bonferroni level per quantity for a family-wise ``ALPHA``."""
        return ALPHA / len(self.pit)

    @property
    def design(self) -> str:
        """Where the priors and design come from, in words (as :attr:`SBCResult.design`)."""
        return design_words(self.family, self.outcome)

    @property
    def title(self) -> str:
        return (f"Exact-posterior SBC, {self.family} ({self.design}), {self.n_sims} data "
                f"sets, PIT in {self.max_rank + 1} cells")

    def pvalues(self) -> dict[str, dict[str, float]]:
        """ECDF test of the PIT ranks (the verdict) and the Kolmogorov-Smirnov test of the
        continuous PITs against U(0, 1), per quantity."""
        return {q: {"ecdf": ecdf_uniformity_pvalue(self.ranks[q], self.max_rank),
                    "ks": float(stats.kstest(u, "uniform").pvalue)}
                for q, u in self.pit.items()}

    def passed(self) -> dict[str, bool]:
        """Whether each quantity's ECDF test keeps uniformity at the Bonferroni level."""
        return {q: p["ecdf"] >= self.alpha_each for q, p in self.pvalues().items()}


def run_exact_sbc(family: str, outcome: str, wide: pd.DataFrame, priors: dict[str, Prior], *,
                  n_sims: int, seed: int, fit_priors: dict[str, Prior] | None = None
                  ) -> ExactSBCResult:
    """Exact-posterior SBC: the PITs of :func:`exact_pit` for ``n_sims`` simulated data sets.

    Data set ``i`` is the one :func:`run_sbc` simulates with the same ``seed`` (same
    simulator, same random stream), so the first data sets of the two runs coincide and
    each NUTS rank can be compared with its exact PIT. ``fit_priors``: priors of the exact
    posterior when they differ from those simulated from (a negative control).
    """
    fam = get_family(family)
    simulate = fam.sbc_simulate
    start = time.perf_counter()
    pits: dict[str, list[float]] = {}
    for i in range(n_sims):
        truth, data = simulate(wide, priors, _sim_rng(family, seed, i))
        for q, u in exact_pit(fam, truth, data, fit_priors or priors).items():
            pits.setdefault(q, []).append(u)
    return ExactSBCResult(family=family, outcome=outcome, priors=priors, seed=seed,
                          pit={q: np.asarray(v) for q, v in pits.items()},
                          seconds=time.perf_counter() - start, fit_priors=fit_priors)


def nuts_exact_agreement(nuts: SBCResult, exact: ExactSBCResult) -> Agreement:
    """Per data set, is the NUTS rank of the truth what its exact PIT predicts?

    For the data sets both runs share (same seed, :func:`run_exact_sbc`) and whose fit passed
    the gate, the rank ``r`` of the truth among ``L`` thinned draws from the exact posterior
    would be Binomial(L, u) with ``u`` the exact PIT (the draws being independent, as the
    thinning of :func:`thin` makes them). Returns the two-sided binomial p-value of every
    rank, and how many fall below ``ALPHA`` Bonferroni-corrected over sets and quantities:
    a check of each NUTS posterior against the exact one at the truth, beyond the gate's
    mean and SD.

    Raises
    ------
    ValueError
        When ``exact`` has fewer data sets than ``nuts``.
    """
    if exact.n_sims < nuts.n_sims:
        raise ValueError(f"the exact SBC has {exact.n_sims} data sets, fewer than the "
                         f"{nuts.n_sims} of the NUTS run")
    ok = np.array([f["ok"] for f in nuts.fits])
    pvalues: dict[str, list[float]] = {}
    tests = 0
    for q in exact.pit:
        r = nuts.ranks[q][ok]
        u = exact.pit[q][: nuts.n_sims][ok]
        lower = bdtr(r, nuts.max_rank, u)
        # P(R >= r); bdtrc(-1, ...) is NaN, and P(R >= 0) = 1
        upper = np.where(r > 0, bdtrc(np.maximum(r - 1, 0), nuts.max_rank, u), 1.0)
        pvalues[q] = np.minimum(1.0, 2 * np.minimum(lower, upper)).tolist()
        tests += len(r)
    level = ALPHA / max(tests, 1)
    return {"data_sets": int(ok.sum()), "p": pvalues, "level_each": level,
            "below_level": {q: int(np.sum(np.array(p) < level)) for q, p in pvalues.items()},
            "smallest_p": min((min(p) for p in pvalues.values() if p), default=1.0)}


TAU_CONTROL_FACTOR = 1.5
"""Negative control of ``validate``: fit with a τ prior this many times wider than the one
the data are simulated from (the size of error an earlier suite's SBC let pass)."""


def widened(prior: Prior, factor: float) -> Prior:
    """``prior`` for ``factor`` times the parameter: the distribution of ``factor * x``.

    Scale families multiply their scale; a log-normal or Turner prior (on ``log x`` or
    ``log x**2``) shifts its location by ``log factor`` or ``2 log factor``.
    """
    d, pr = prior.dist, prior.params
    if d in ("halfnormal", "halfcauchy"):
        params: tuple[float, ...] = (pr[0] * factor,)
    elif d == "halfstudentt":
        params = (pr[0], pr[1] * factor)
    elif d == "uniform":
        params = (pr[0] * factor, pr[1] * factor)
    elif d in ("lognormal", "turner"):
        params = (pr[0] + (1.0 if d == "lognormal" else 2.0) * float(np.log(factor)), pr[1])
    else:
        raise ValueError(f"cannot widen a {d} prior (resolve uisd priors first)")
    # 12 significant digits: 0.3 * 1.5 is recorded as 0.45, not 0.44999999999999996
    return Prior(d, tuple(float(f"{x:.12g}") for x in params))


def plot_ecdf_difference(result: SBCResult | ExactSBCResult,
                         path_writer: Callable[[Any], None]) -> None:
    """ECDF-difference plot per quantity with simultaneous 95% and test-level bands.

    ``result`` is an :class:`SBCResult` or an :class:`ExactSBCResult`.

    ``path_writer(fig)`` saves the figure (so the caller controls atomic writing).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qs = list(result.ranks)
    pv = result.pvalues()
    n = result.n_sims
    fig, axes = plt.subplots(1, len(qs), figsize=(3.2 * len(qs), 3.0), sharey=True,
                             squeeze=False)
    level = 1 - result.alpha_each
    for ax, q in zip(axes[0], qs, strict=True):
        z, f = rank_ecdf(result.ranks[q], result.max_rank)
        x = np.r_[0, z, 1]
        for prob, shade, what in ((level, 0.12, " (test level)"), (0.95, 0.25, "")):
            _, lo, hi = ecdf_band(n, result.max_rank, prob)
            # F(z_k) holds from cut z_k to the next cut: steps drawn "post"
            ax.fill_between(x, np.r_[0, lo - z, 0], np.r_[0, hi - z, 0], step="post",
                            color="tab:blue", alpha=shade, linewidth=0,
                            label=f"{100 * prob:.4g}% band{what}")
        ax.step(x, np.r_[0, f - z, 0], where="post", color="black", lw=1.2)
        ax.axhline(0, color="grey", lw=0.6)
        verdict = "pass" if pv[q]["ecdf"] >= result.alpha_each else "FAIL"
        ax.set_title(f"{q}\np = {pv[q]['ecdf']:.3f} ({verdict})", fontsize=9)
        ax.set_xlabel("fractional rank")
    axes[0][0].set_ylabel("ECDF − uniform")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(result.title, fontsize=10)
    fig.tight_layout()
    try:
        path_writer(fig)
    finally:
        plt.close(fig)
