"""The public battery: classic meta-analyses of R's metadat package pass the convergence gate
at three seeds and agree with metafor (``tests/data/metadat``; its README has the provenance
and the exact R calls; ``tests/published/metadat_battery.py`` the specs).

Binary data (2x2 tables) are fitted by the binomial family from exact counts and compared
with ``rma.glmm(measure = "OR", model = "UM.FS", method = "ML", coding = 1/2)``, the same
binomial-normal model with fixed study intercepts and ±1/2 coding, by maximum likelihood.
Contrast data (estimates and SEs) are fitted by the contrast family and compared with
``rma(method = "REML")``. The tolerances (:data:`TOLERANCES`, the table in
``docs/validation.md``) allow for what separates a posterior under weakly informative priors
from an ML/REML point estimate, plus Monte Carlo error:

- ``theta``: the posterior median of the pooled effect within ``THETA_SD`` posterior SDs
  of metafor's estimate, plus 4 Monte Carlo standard errors of the median. The ML estimate
  weights the studies at the point estimate of tau; the posterior averages over tau, whose
  posterior lies above the ML estimate (biased low, often 0 at the boundary), so the
  studies are weighted more equally and the large trials less: dat.lau1992 (ML tau 0, two
  trials of 11,700 and 17,200 patients) moves by 0.2-0.3 posterior SDs.
- ``tau``: metafor's estimate lies in the posterior's central 95% interval of tau, widened
  by ``TAU_ABS`` on the low side for an estimate of 0 at the boundary, which no posterior
  of tau > 0 contains.

The gate is never loosened: three fits of every dataset must pass it, the retry included. The
same seed gives other draws on another CPU (the last bits differ), so a fit at one of the
three seeds that fails is replaced by one at :data:`SPARE_SEEDS`; a failed fit must still be
refused with its failures named.
"""

from __future__ import annotations

import numpy as np
import pytest
from arviz_stats import mcse

import metadat_battery as mb

SEEDS = (1, 2, 3)
SPARE_SEEDS = (4,)
"""Tried only when a fit at one of :data:`SEEDS` fails its gate (at most one may)."""
THETA_SD = 0.5
"""Largest difference between the posterior median of theta and metafor's estimate, in
posterior SDs of theta (before Monte Carlo error)."""
TAU_ABS = 0.1
"""Slack on the tau check (on the log odds ratio scale, times ``metadat_battery.SCALE``)."""
TOLERANCES = {"theta": f"|median - estimate| <= {THETA_SD} posterior SD + 4 MCSE(median)",
              "tau": f"estimate in the 95% CrI, its lower end lowered by {TAU_ABS}"}

REFERENCE = mb.reference()
NAMES = sorted(REFERENCE)


@pytest.fixture(scope="module")
def battery(tmp_path_factory):
    specs, binary, contrast = mb.load(tmp_path_factory.mktemp("metadat_models"))
    tables = {"binomial": binary, "contrast": contrast}
    fits: dict[tuple[str, int], object] = {}

    def fit(name: str, seed: int):
        if (name, seed) not in fits:
            fits[name, seed] = mb.fit(specs, tables, name, seed)
        return fits[name, seed]

    return fit


def test_the_battery_holds_20_binary_and_5_contrast_sets_that_must_pass():
    families = [REFERENCE[n]["family"] for n in NAMES]
    assert families.count("binomial") == 20 and families.count("contrast") == 5
    assert all(REFERENCE[n]["k"] >= 4 for n in NAMES)


def _agrees(name: str, result) -> None:
    """The fit's posterior agrees with metafor within :data:`TOLERANCES`."""
    ref = REFERENCE[name]
    scale = mb.SCALE.get(name, 1.0)
    est, tau_hat = ((ref["glmm_est"], ref["glmm_tau"]) if ref["family"] == "binomial"
                    else (ref["reml_est"], ref["reml_tau"]))
    post = result.idata["posterior"]
    theta = float(post["effect"].median())
    sd = float(post["effect"].std())
    err = float(mcse(result.idata, var_names=["effect"], method="median")["effect"])
    assert abs(theta - est) <= THETA_SD * sd + 4 * err, (theta, est, sd, err)
    lo, hi = np.quantile(post["tau"].values, [0.025, 0.975])
    assert lo - TAU_ABS * scale <= tau_hat <= hi, (lo, tau_hat, hi)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_passes_the_gate_at_three_seeds_and_agrees_with_metafor(battery, name):
    """Three seeds must pass, the retry included. Whether a given seed passes depends on
    the CPU's last bits, so a fit that fails (refused after its retry, its failures named,
    no estimate) is replaced by the next of :data:`SPARE_SEEDS`; every fit that passes
    agrees with metafor."""
    passed, refused = [], []
    for seed in (*SEEDS, *SPARE_SEEDS):
        if len(passed) == len(SEEDS):
            break
        result = battery(name, seed)
        if result.ok:
            _agrees(name, result)
            passed.append(seed)
        else:
            assert result.estimates is None and result.diagnostics.attempts == 2, seed
            assert result.diagnostics.failures, seed
            refused.append((seed, result.diagnostics.failures))
    assert len(passed) == len(SEEDS), (passed, refused)
