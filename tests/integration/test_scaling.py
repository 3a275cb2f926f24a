"""A fit of many studies passes the convergence gate with ``fit``'s default settings (issue 15).

k = 100 simulated studies (k = 1000 is in ``benchmarks/bench_scaling.py``, too slow for the
suite) shaped like the bundled LMD outcome: its arm sizes, its priors, and counts reported
as whole percentages (:func:`srsbayes.families.binomial_sbc.simulate_binomial`), so the
rounding-aware likelihood is exercised too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from srsbayes.errors import InputError
from srsbayes.families import FAMILIES
from srsbayes.families.binomial_sbc import simulate_binomial
from srsbayes.inference.fitting import (
    DEFAULT_TUNE,
    FitSettings,
    resolve_priors,
    sample_gated,
)
from srsbayes.inputs.data import StudyTable, outcome_table
from srsbayes.inputs.specs import OutcomeSpec

K = 100
SEED = 20261201
BINOMIAL_TUNE = 300
"""The binomial family's measured tuning length (``FamilyInfo.tune`` once registered)."""
COVER_SDS = 3.0
"""The true θ must lie within this many posterior SDs of the posterior mean (a 99.7%
interval for a calibrated normal posterior)."""


@pytest.fixture(scope="module")
def simulated(specs: dict[str, OutcomeSpec], bundled_table: StudyTable):
    """k = 100 studies whose arm sizes are drawn from the bundled LMD arms; the truth."""
    spec = specs["lmd"]
    wide = outcome_table(bundled_table, spec)
    priors = resolve_priors(spec, wide)
    rng = np.random.default_rng(SEED)
    arms = np.concatenate([wide["n_postop"], wide["n_preop"]]).astype(int)
    design = pd.DataFrame({"n_postop": rng.choice(arms, K), "n_preop": rng.choice(arms, K)})
    truth, data = simulate_binomial(design, priors, rng)
    return truth, data, priors


@pytest.fixture(scope="module")
def fitted(simulated):
    """``fit``'s path: the gate, and its retry when the first attempt fails. Whether the
    first attempt at this seed passes depends on the CPU's last bits, so the test does not
    require it (the retry is ``fit``'s own remedy)."""
    _, data, priors = simulated
    settings = FitSettings(seed=SEED, tune=BINOMIAL_TUNE)
    idata, diag, _ = sample_gated("binomial", data, priors, settings)
    return idata, diag


def test_k100_passes_gate_with_fits_default_settings(fitted) -> None:
    _, diag = fitted
    assert diag.ok, diag.failures


def test_k100_theta_covers_truth(simulated, fitted) -> None:
    truth, _, _ = simulated
    idata, _ = fitted
    theta = idata["posterior"]["effect"].values.ravel()
    assert abs(theta.mean() - truth["effect"]) <= COVER_SDS * theta.std()
    # 100 studies pin θ down far more than the prior N(0, 1.5) does.
    assert theta.std() < 0.25


def test_tune_explicit_or_from_family() -> None:
    assert FitSettings(tune=123).resolved("binomial", 1000).tune == 123
    family = getattr(FAMILIES["binomial"], "tune", DEFAULT_TUNE)
    assert FitSettings().resolved("binomial", K).tune == family
    assert FitSettings().resolved("binomial", 1000).tune == max(family, DEFAULT_TUNE)
    assert FitSettings().resolved("binomial", 1000).retry().tune == 2000
    assert FitSettings().resolved("binomial", K).retry().tune == max(2 * family, 1000)


def test_adaptation_is_nutpies_and_checked() -> None:
    """The setting is passed to nutpie as it is: no ``auto`` that means nothing."""
    assert FitSettings().adaptation == "diag"
    assert FitSettings(adaptation="low_rank").adaptation == "low_rank"
    with pytest.raises(InputError, match=r"adaptation.*diag, draw_diag, low_rank, got 'auto'"):
        FitSettings(adaptation="auto")
