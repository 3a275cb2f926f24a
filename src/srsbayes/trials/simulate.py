"""Predictive trial data: what a new randomised trial could observe, given today's posterior.

Simulation ``i`` is an independent task with its own random stream,
``default_rng(SeedSequence([seed, TRIAL_STREAM], spawn_key=(i,)))`` (the ``i``-th child of
``SeedSequence([seed, TRIAL_STREAM]).spawn``), so its data do not depend on which other
simulations run, in which order or on how many workers: a distributed run gives the same
numbers as a serial one. Per simulation:

1. a draw ``(theta_j, tau_j)`` of the current meta-analytic posterior, ``j`` uniform;
2. the true effect in the trial's population, ``theta' = theta_j + tau_j z`` with
   ``z ~ N(0, 1)``: the posterior predictive of a new study (Higgins, Thompson &
   Spiegelhalter 2009). The trial is randomised and so taken as unbiased: with a
   bias-adjusted fit, ``theta`` is already the effect an unbiased study estimates;
3. the data. For an outcome of event counts, the control (postop) log-odds ``a`` of the
   trial's population from the family's baseline model (:mod:`srsbayes.families.baseline`,
   its predictive draw for a new population), and ``Binomial(n_postop, expit(a))`` and
   ``Binomial(n_preop, expit(a + theta'))`` events; the trial reports their Wald log odds
   ratio and its standard error (0.5 added to every cell of a table with a zero cell). For
   any other outcome, an estimate ``y ~ N(theta', se^2)`` on the analysis scale with the
   stated standard error ``se`` (the design alone does not imply one).

References
----------
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects
meta-analysis. J R Stat Soc A 172:137-159.

O'Hagan A, Stevens JW, Campbell MJ (2005). Assurance in clinical trial design. Pharm Stat
4:187-201.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from ..errors import InputError
from ..families import FAMILIES, get_family
from ..families.baseline import BaselineModel

TRIAL_STREAM = 11
"""Entropy word of the simulated trials' random streams (one child stream per simulation)."""
POWER_STREAM = 12
"""Entropy word of the streams of the power calculations at fixed effects."""


def rng_for(seed: int, stream: int, index: int) -> np.random.Generator:
    """The random generator of task ``index`` of ``stream`` (independent of every other)."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream], spawn_key=(index,)))


@dataclass(frozen=True)
class Posterior:
    """Today's meta-analytic posterior draws, flattened and aligned by index.

    ``theta`` is the pooled effect on the analysis scale (log OR, log ratio, or a
    difference), ``tau`` the between-study SD, ``benefit`` the family's absolute benefit
    (signed: positive favours preop) read from the fit's ``derived`` group.
    """

    theta: np.ndarray
    tau: np.ndarray
    benefit: np.ndarray
    sign: int

    @property
    def size(self) -> int:
        return self.theta.size

    @classmethod
    def from_fit(cls, result: Any) -> Posterior:
        """The draws of a converged :class:`srsbayes.inference.fitting.FitResult`."""
        if not result.ok:
            raise ValueError("an unconverged fit has no posterior to simulate from")
        post = result.idata["posterior"].to_dataset()
        derived = result.idata["derived"].to_dataset()
        return cls(np.asarray(post["effect"], float).ravel(),
                   np.asarray(post["tau"], float).ravel(),
                   np.asarray(derived["benefit"], float).ravel(), result.spec.sign)


@dataclass(frozen=True)
class TrialSetup:
    """What a simulated trial looks like: its arms, and how its result is reported.

    ``baseline`` (control log-odds model) is set for an outcome of event counts, which are
    simulated; otherwise ``se`` is the stated standard error of the trial's estimate.
    """

    n_preop: int
    n_postop: int
    se: float | None = None
    baseline: BaselineModel | None = None

    @property
    def counts(self) -> bool:
        return self.baseline is not None

    def describe(self) -> str:
        if self.counts:
            return (f"binomial events in {self.n_preop} preop and {self.n_postop} postop "
                    "patients, analysed as a Wald log odds ratio")
        return f"an estimate on the analysis scale with standard error {self.se:g}"


def setup_for(result: Any, n_preop: int, n_postop: int, se: float | None) -> TrialSetup:
    """The :class:`TrialSetup` of a fitted outcome.

    An outcome of event counts (``FamilyInfo.count_data``) gets simulated counts from its
    family's baseline model unless ``se`` is given; any other needs ``se``.

    Raises
    ------
    InputError
        ``se`` missing for an outcome without counts, or not > 0.
    """
    if se is not None and not (np.isfinite(se) and se > 0):
        raise InputError(f"must be > 0, got {se:g}", column="--se")
    fam = get_family(result.spec.family)
    if se is None and FAMILIES[result.spec.family].count_data:
        from ..inference.fitting import model_data

        data = model_data(result.spec, result.wide)
        baseline = fam.baseline_model(data, result.priors)
        if baseline is not None:
            return TrialSetup(n_preop, n_postop, None, baseline)
    if se is None:
        raise InputError(f"outcome {result.spec.id!r} has no event counts to simulate: give "
                         "--se, the expected standard error of the trial's estimate on the "
                         "analysis scale (log scale for a ratio)", column="--se")
    return TrialSetup(n_preop, n_postop, float(se), None)


@dataclass(frozen=True)
class Simulated:
    """Simulated trials, one entry per simulation index.

    ``draw`` is the posterior draw each came from, ``true_effect`` its ``theta'``,
    ``control_risk`` the postop risk (counts only; NaN otherwise), ``events_preop`` /
    ``events_postop`` the counts (-1 without counts), and ``estimate`` / ``se`` what the
    trial reports.
    """

    index: np.ndarray
    draw: np.ndarray
    true_effect: np.ndarray
    control_risk: np.ndarray
    events_preop: np.ndarray
    events_postop: np.ndarray
    estimate: np.ndarray
    se: np.ndarray


def wald_log_or(a: np.ndarray, n1: np.ndarray, c: np.ndarray, n2: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Wald log odds ratio (preop vs postop) and its SE; 0.5 is added to every cell of a
    table with a zero cell (Haldane-Anscombe; Higgins et al., Cochrane Handbook 2023, 10.4.4.2)."""
    a, c = np.asarray(a, float), np.asarray(c, float)
    b, d = np.asarray(n1, float) - a, np.asarray(n2, float) - c
    cc = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
    y = np.log((a + cc) * (d + cc) / ((b + cc) * (c + cc)))
    s = np.sqrt(1 / (a + cc) + 1 / (b + cc) + 1 / (c + cc) + 1 / (d + cc))
    return y, s


def simulate(post: Posterior, setup: TrialSetup, seed: int, indices: np.ndarray
             ) -> Simulated:
    """Simulate the trials ``indices`` (each from its own stream, :func:`rng_for`)."""
    indices = np.asarray(indices, dtype=np.int64)
    n = indices.size
    draw = np.empty(n, dtype=np.int64)
    true = np.empty(n)
    risk = np.full(n, np.nan)
    ev_t = np.full(n, -1, dtype=np.int64)
    ev_c = np.full(n, -1, dtype=np.int64)
    est = np.empty(n)
    for k, i in enumerate(indices):
        rng = rng_for(seed, TRIAL_STREAM, int(i))
        j = int(rng.integers(post.size))
        draw[k] = j
        true[k] = post.theta[j] + post.tau[j] * rng.standard_normal()
        if setup.counts:
            assert setup.baseline is not None
            a0 = float(setup.baseline.predictive(rng, 1)[0])
            risk[k] = expit(a0)
            ev_c[k] = rng.binomial(setup.n_postop, risk[k])
            ev_t[k] = rng.binomial(setup.n_preop, expit(a0 + true[k]))
        else:
            est[k] = true[k] + setup.se * rng.standard_normal()
    if setup.counts:
        est, se = wald_log_or(ev_t, setup.n_preop, ev_c, setup.n_postop)
    else:
        se = np.full(n, float(setup.se))
    return Simulated(indices, draw, true, risk, ev_t, ev_c, est, se)


def simulate_fixed(setup: TrialSetup, effect: float, control_risk: float, seed: int,
                   indices: np.ndarray, stream: int = POWER_STREAM
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and SEs of trials whose true effect and control risk are fixed (power)."""
    indices = np.asarray(indices, dtype=np.int64)
    if not setup.counts:
        z = np.array([rng_for(seed, stream, int(i)).standard_normal() for i in indices])
        return effect + setup.se * z, np.full(indices.size, float(setup.se))
    p_t = float(expit(np.log(control_risk / (1 - control_risk)) + effect))
    ev = np.array([(r.binomial(setup.n_preop, p_t), r.binomial(setup.n_postop, control_risk))
                   for r in (rng_for(seed, stream, int(i)) for i in indices)])
    return wald_log_or(ev[:, 0], setup.n_preop, ev[:, 1], setup.n_postop)
