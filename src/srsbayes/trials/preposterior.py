"""Preposterior: what the meta-analysis would say once a simulated trial is added to it.

Adding a trial to the random-effects model adds a new study whose deviation
``delta_new ~ N(0, tau^2)`` is integrated out (:mod:`.likelihood`). The updated posterior
is today's reweighted by the trial's likelihood: draw ``j`` gets the importance weight
``w_j ∝ p(trial data | theta_j, tau_j)``; the weights
are Pareto-smoothed and their Pareto k̂ says whether the reweighting can be trusted
(Vehtari et al. 2024): above 0.7 the simulated trial is refitted instead (the caller's
``refit``). From the weights: the updated P(benefit), P(benefit >= each threshold of the
spec) and the mean absolute benefit.

Because the trials are simulated from the same draws that are reweighted, the mean of the
post-trial P(benefit) over simulations equals today's P(benefit) up to Monte Carlo error
(the posterior probability is a martingale); ``tests/integration/test_trials.py`` checks it.

References
----------
Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J (2024). Pareto smoothed importance
sampling. J Mach Learn Res 25(72):1-58.

Ades AE, Lu G, Claxton K (2004). Expected value of sample information calculations in
medical decision modeling. Med Decis Making 24:207-227 (the preposterior in EVSI).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..families import FAMILIES
from ..inputs.specs import OutcomeSpec
from .simulate import Posterior, Simulated

KHAT_MAX = 0.7
"""Pareto k̂ above which importance reweighting is not trusted (Vehtari et al. 2024)."""


def psis_weights(loglik: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed normalised weights (rows) and each row's Pareto k̂
    (``arviz_stats``' PSIS, row by row: the result of a row does not depend on the others).

    ``array_stats.psislw`` takes a log-likelihood and smooths the leave-one-out ratios
    ``1 / p`` (it negates its input); the ratios here are ``p`` itself, so it gets
    ``-loglik``.
    """
    from arviz_stats.base import array_stats

    # a degenerate row (a trial far more informative than the posterior) overflows inside
    # the Pareto fit; its k̂ is then large or NaN, which flags it for a refit
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lw, khat = array_stats.psislw(-loglik, r_eff=1.0, axis=-1)
    khat = np.where(np.isfinite(khat), khat, np.inf)
    bad = ~np.isfinite(lw).all(axis=-1)
    lw[bad] = loglik[bad]  # no smoothing possible: the raw weights (k̂ = inf flags them)
    w = np.exp(lw - lw.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True), np.asarray(khat, float)


def threshold_indicators(spec: OutcomeSpec, post: Posterior) -> np.ndarray:
    """Per spec threshold, whether each draw reaches it, shape ``(thresholds, draws)``:
    the family's absolute measure compares the ``benefit`` draws; a ratio measure the
    effect on the benefit side of the threshold (as
    :func:`srsbayes.families.threshold_probability`)."""
    rows = []
    for t in spec.thresholds:
        if t.measure == FAMILIES[spec.family].absolute_measure:
            rows.append(post.benefit >= t.threshold)
        else:
            rows.append(post.sign * (post.theta - np.log(t.threshold)) >= 0)
    return np.asarray(rows, dtype=bool).reshape(len(rows), post.size)


@dataclass(frozen=True)
class Updated:
    """Post-trial quantities, one entry per simulated trial.

    ``p_benefit`` and ``p_thresholds`` (thresholds x trials) are the updated meta-analytic
    probabilities, ``benefit`` the updated mean absolute benefit, ``khat`` the Pareto k̂ of
    the reweighting and ``refitted`` whether the trial was refitted instead (k̂ > 0.7);
    ``failed`` marks refits that failed their convergence gate (no number: NaN).
    """

    p_benefit: np.ndarray
    p_thresholds: np.ndarray
    benefit: np.ndarray
    khat: np.ndarray
    refitted: np.ndarray
    failed: np.ndarray


Refit = Callable[[Simulated, int], Posterior | None]
"""``refit(sims, k)``: today's model refitted with the ``k``-th trial of ``sims`` added, or
None when the refit failed its convergence gate."""


def update(spec: OutcomeSpec, post: Posterior, loglik: np.ndarray, sims: Simulated,
           refit: Refit | None = None, refits_left: int = 0) -> tuple[Updated, int]:
    """Post-trial quantities of the simulated trials ``sims``, whose log-likelihood under
    each draw is ``loglik`` (trials x draws, :mod:`.likelihood`).

    Trials whose k̂ exceeds :data:`KHAT_MAX` are refitted with ``refit`` while
    ``refits_left`` allows; the others keep their Pareto-smoothed reweighting (flagged by
    their k̂). Returns the updated quantities and the refits left.
    """
    weights, khat = psis_weights(loglik)
    n = sims.index.size
    benefit_ind = (post.sign * post.theta > 0).astype(float)
    thr = threshold_indicators(spec, post).astype(float)
    # row by row (vector dot products), so that a trial's numbers do not depend on how many
    # trials share its chunk: identical results for any split of the simulations
    p_benefit = np.array([w @ benefit_ind for w in weights])
    p_thr = np.array([[w @ t for w in weights] for t in thr]).reshape(len(thr), n)
    mean_benefit = np.array([w @ post.benefit for w in weights])
    upd = Updated(p_benefit, p_thr, mean_benefit, khat, np.zeros(n, dtype=bool),
                  np.zeros(n, dtype=bool))
    return apply_refits(spec, upd, sims, refit, refits_left)


def apply_refits(spec: OutcomeSpec, upd: Updated, sims: Simulated, refit: Refit | None,
                 refits_left: int) -> tuple[Updated, int]:
    """Refit, in index order while ``refits_left`` allows, the trials of ``sims`` whose k̂
    exceeds :data:`KHAT_MAX`, replacing their reweighted numbers in ``upd`` (in place).

    :func:`update` calls it chunk by chunk; a distributed run calls it once on all the
    trials after the reweighted chunks return: either way the first ``refits_left``
    trials over the threshold, in index order, are the ones refitted.
    """
    for k in np.flatnonzero(upd.khat > KHAT_MAX):
        if refit is None or refits_left <= 0:
            break
        refits_left -= 1
        upd.refitted[k] = True
        new = refit(sims, int(k))
        if new is None:
            upd.failed[k] = True
            upd.p_benefit[k] = upd.benefit[k] = np.nan
            upd.p_thresholds[:, k] = np.nan
            continue
        upd.p_benefit[k] = float((new.sign * new.theta > 0).mean())
        upd.p_thresholds[:, k] = threshold_indicators(spec, new).mean(axis=1)
        upd.benefit[k] = float(new.benefit.mean())
    return upd, refits_left


def concat(parts: list[Updated]) -> Updated:
    """The updated quantities of consecutive chunks of trials, in order."""
    return Updated(*(np.concatenate([getattr(p, f) for p in parts], axis=-1)
                     for f in ("p_benefit", "p_thresholds", "benefit", "khat", "refitted",
                               "failed")))
