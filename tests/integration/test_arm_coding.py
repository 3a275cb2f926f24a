"""The binomial-normal model's default ±1/2 coding is invariant to swapping the arms.

Swapping preop and postop negates θ; under ±1/2 coding (Turner et al. 2000) with a prior on
θ symmetric about 0 the posterior of θ is then exactly mirrored, so the two fits agree within
Monte Carlo error. Under 0/1 coding the baseline prior sits on one arm only and, with one or
two preop events per study, the pooled log odds ratio moves by far more than that error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from arviz_stats import mcse

from srsbayes.families import get_family
from srsbayes.families.binomial import ARM_CODINGS
from srsbayes.inference.fitting import FitSettings, resolve_priors, sample_gated
from srsbayes.inputs.data import outcome_table

SETTINGS = FitSettings(seed=5)


def _theta(data, priors, coding):
    idata, diag, _ = sample_gated("binomial", {**data, "arm_coding": np.asarray(coding)},
                                  priors, SETTINGS)
    assert diag.ok
    theta = idata["posterior"]["effect"]
    return float(theta.mean()), float(mcse(idata, var_names=["effect"])["effect"])


@pytest.fixture(scope="module")
def lmd(bundled_table, specs):
    wide = outcome_table(bundled_table, specs["lmd"])
    data = get_family("binomial").model_data(wide)
    other = {"preop": "postop", "postop": "preop"}
    swapped = {}
    for key, value in data.items():  # every per-arm array (n, y, count sets) changes arm
        stem, _, arm = key.rpartition("_")
        swapped[f"{stem}_{other[arm]}" if arm in other else key] = value
    return data, swapped, resolve_priors(specs["lmd"], wide)


def test_symmetric_coding_mirrors_theta_when_arms_swap(lmd):
    data, swapped, priors = lmd
    m, e = _theta(data, priors, ARM_CODINGS["symmetric"])
    m_s, e_s = _theta(swapped, priors, ARM_CODINGS["symmetric"])
    assert m_s == pytest.approx(-m, abs=4 * np.hypot(e, e_s))


def test_reference_coding_is_not_invariant(lmd):
    """The negative control: 0/1 coding moves the pooled log OR (0.26 vs 1/0.36 in the
    issue's measurement), far beyond Monte Carlo error."""
    data, swapped, priors = lmd
    m, e = _theta(data, priors, ARM_CODINGS["postop_reference"])
    m_s, e_s = _theta(swapped, priors, ARM_CODINGS["postop_reference"])
    assert abs(m_s + m) > 10 * np.hypot(e, e_s)


def test_reference_coding_is_a_spec_option(specs, tmp_path):
    """``[model] arm_coding = "postop_reference"`` in a spec selects the 0/1 coding; an
    unknown choice or option is a one-line error naming the key."""
    import pandas as pd

    from srsbayes.errors import InputError
    from srsbayes.inference.fitting import model_data
    from srsbayes.inputs.specs import load_spec_file
    from srsbayes.resources import BUNDLED_MODELS

    text = (BUNDLED_MODELS / "lmd.toml").read_text()
    path = tmp_path / "lmd.toml"
    path.write_text(text + '\n[model]\narm_coding = "postop_reference"\n')
    spec = load_spec_file(path)
    assert spec.model_options == {"arm_coding": 0.0}
    assert specs["lmd"].model_options == {}
    wide = pd.DataFrame({"study": ["A"], "n_preop": [10], "n_postop": [10],
                         "events_preop": [1], "events_postop": [2]})
    assert float(model_data(spec, wide)["arm_coding"]) == 0.0  # what fit and sweeps sample
    path.write_text(text + '\n[model]\narm_coding = "treated"\n')
    with pytest.raises(InputError, match=r"model\.arm_coding.*symmetric, postop_reference"):
        load_spec_file(path)
    path.write_text(text + '\n[model]\ncentering = 1\n')
    with pytest.raises(InputError, match="unknown model option"):
        load_spec_file(path)


@pytest.mark.parametrize("data", [None, "mixed_lmd.csv"])
def test_a_spec_with_reference_coding_fits_end_to_end(run_cli, tmp_path, data):
    """The whole ``fit`` with ``[model] arm_coding = "postop_reference"``, on the bundled data
    and on ``--data`` (a CSV of arm and contrast rows): it used to exit 1 with a ValueError,
    the scalar option stored as if it were one value per study. The posterior records the
    coding as a scalar beside the per-study data."""
    import json
    import shutil

    import xarray as xr

    from srsbayes.resources import BUNDLED_MODELS

    models = tmp_path / "models"
    shutil.copytree(BUNDLED_MODELS, models)
    spec = models / "lmd.toml"
    spec.write_text(spec.read_text() + '\n[model]\narm_coding = "postop_reference"\n')
    argv = ["fit", "lmd", "--models", models, "--out", tmp_path / "out"]
    if data is not None:
        argv += ["--data", Path(__file__).parents[1] / "data" / data]
    status, _out, err = run_cli(argv)
    assert status == 0, err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["diagnostics"]["ok"]
    tree = xr.open_datatree(tmp_path / "out" / "posterior.nc", engine="h5netcdf")
    const = tree["constant_data"]
    assert const["arm_coding"].dims == () and float(const["arm_coding"]) == 0.0
    assert const["n_preop"].dims == ("study",)
