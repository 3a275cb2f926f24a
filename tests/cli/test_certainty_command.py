"""``python -m srsbayes certainty`` end to end: five fits of the bundled data (about a
minute), and the exit statuses for bad input and for a fit that fails its gate."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math

import pytest
from scipy.special import expit, logit

from srsbayes.certainty import LEVELS
from srsbayes.cli.main import main
from srsbayes.inputs.data import DEFAULT_DATA

OUTCOMES = ["lc", "lmd", "rn", "dbf", "os"]


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """One run on the bundled data: exit status, stdout (JSON) and the folder."""
    out = tmp_path_factory.mktemp("certainty")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(["certainty", "--json", "--out", str(out), "--baseline-risk", "0.2",
                       "--baseline-risk", "lmd=0.05"])
    return status, buf.getvalue(), out


def test_bundled_run_writes_what_it_prints(bundled):
    status, stdout, out = bundled
    assert status == 0
    written = (out / "certainty.json").read_text(encoding="utf-8")
    assert stdout == written
    d = json.loads(written)
    assert list(d["outcomes"]) == OUTCOMES and d["converged"] is True


def test_certainty_json_records_the_provenance_block(bundled, bundled_table, specs):
    """Before issue 20 certainty.json recorded no data hash, seed, versions, lock or spec."""
    import hashlib

    prov = json.loads(bundled[1])["provenance"]
    assert prov["data"] == {"path": bundled_table.path, "sha256": bundled_table.sha256}
    assert list(prov["specs"]) == OUTCOMES
    assert prov["specs"]["os"]["sha256"] == hashlib.sha256(
        specs["os"].text.encode("utf-8")).hexdigest()
    assert prov["priors"]["lmd"]["tau"] == "halfnormal(0.5)"
    assert prov["seed"] == 20260226 and prov["settings"]["draws"] == 1000
    assert prov["lock_sha256"] == prov["versions"]["uv.lock sha256"]
    assert prov["command"].endswith("-m srsbayes certainty --json --out "
                                    f"{bundled[2]} --baseline-risk 0.2 --baseline-risk "
                                    "lmd=0.05")


def test_every_rating_has_its_reasons(bundled):
    d = json.loads(bundled[1])
    for o in OUTCOMES:
        c = d["outcomes"][o]["certainty"]
        assert c["level"] in LEVELS and c["start"] == "low"
        moved = [x for x in c["domains"] if x["change"]]
        assert len(c["reasons"]) == len(moved) and all(x["reason"] for x in moved)
        rating = {x["domain"]: x["rating"] for x in c["domains"]}
        # no design, no rob in the bundled data; 4 studies; the audit's GRIM and homogeneity
        assert rating["risk of bias"] == "not assessed"
        assert rating["publication bias"] == "not assessable"
        assert rating["source audit"] == "serious"
        assert rating["indirectness"] == "not serious"
        # low (risk of bias not assessed: counted by the low start), minus 1 (audit): very
        # low whatever else
        assert c["level"] == "very low"
        assert d["outcomes"][o]["statement"].startswith("The evidence is very uncertain")


def test_lmd_row(bundled):
    row = json.loads(bundled[1])["outcomes"]["lmd"]
    assert (row["n_studies"], row["n_patients"]) == (4, 403)
    # OR 0.30 (0.12-0.68) with the +-1/2 coding (issue 12), within Monte Carlo error
    assert row["relative"]["median"] == pytest.approx(0.30, abs=0.03)
    (a,) = row["absolute"]  # the stated lmd=0.05 replaces the 0.2 for every outcome
    assert a["baseline_label"] == "stated baseline risk 5%" and a["control"] == 5.0
    assert a["unit"] == "per 100 patients"  # the unit of every absolute effect
    # order statistics: the median of expit(logit r + theta) is that of the median theta
    expected = 100 * expit(logit(0.05) + math.log(row["relative"]["median"]))
    assert a["intervention"]["median"] == pytest.approx(expected, rel=1e-9)
    domains = {x["domain"]: x for x in row["certainty"]["domains"]}
    # imprecision reads the primary absolute effect, at the stated 5% risk: at most 5 fewer
    # per 100 even with no LMD at all, so its CrI lies between no effect and the 5 points
    imp = domains["imprecision"]
    assert imp["values"]["ci95"] == [-v for v in reversed(a["difference"]["ci95"])]
    assert 0 < imp["values"]["ci95"][0] < imp["values"]["ci95"][1] < 5
    assert imp["values"]["thresholds_crossed"] == []
    # ... but 403 patients are fewer than the optimal information size (GRADE 34)
    assert imp["rating"] == "serious" and imp["values"]["information_size"]["met"] is False


def test_stated_and_pooled_baselines(bundled):
    d = json.loads(bundled[1])["outcomes"]
    assert [a["baseline"] for a in d["rn"]["absolute"]] == [0.2]
    (os_,) = d["os"]["absolute"]
    assert os_["unit"] == "months" and os_["baseline_label"].startswith(
        "patient-weighted mean postop median of the 4 studies")


def test_net_benefit(bundled):
    nb = json.loads(bundled[1])["net_benefit"]
    # DBF has weight 0 by default (it may count LMD events), so it is not paired
    assert nb["available"] and nb["outcomes"] == ["lc", "lmd", "rn"]
    assert [c["outcome"] for c in nb["criteria"]] == ["lmd", "rn", "lc"]
    assert 0 <= nb["p_all_criteria"] <= min(c["probability"] for c in nb["criteria"])
    # the criteria read the primary effect: at the stated LMD risk of 5% no draw can avoid
    # 5 LMD events per 100 patients
    assert nb["criteria"][0]["probability"] == 0.0 and nb["p_all_criteria"] == 0.0
    assert nb["sensitivity"]["n_settings"] == 27
    assert 0 <= nb["sensitivity"]["holds_in"] <= 27
    corr = nb["correlation"]
    assert [c["rho"] for c in corr["settings"]] == [0.0, 0.3, 0.6, 0.9]
    assert corr["tipping_rho"] is None or 0 < corr["tipping_rho"] < 1
    assert nb["unit"] == "weighted events avoided per 100 patients"
    assert nb["verdict"] in ("net benefit", "net harm", "inconclusive")
    assert "independent" in nb["assumption"]


def _lmd_only(tmp_path):
    lines = DEFAULT_DATA.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "lmd.csv"
    path.write_text("\n".join([lines[0], *[ln for ln in lines if ",lmd," in ln]]) + "\n",
                    encoding="utf-8")
    return path


def test_text_table_for_one_outcome(tmp_path, run_cli):
    status, out, _ = run_cli(["certainty", "--data", _lmd_only(tmp_path), "--out", tmp_path])
    assert status == 0
    assert "Leptomeningeal disease (4 studies, 403 patients)" in out
    # the four postop arms are GRIM failures: the pooled risk is over their count sets
    assert "postop 12.5 vs preop" in out and "pooled postop risk of the 4 studies " \
           "(12.5% of 208 patients, over the counts each reported percentage allows)" in out
    assert "risk of bias: not assessed" in out and "rated down 1 for risk of bias" not in out
    assert "rated down 1 for imprecision" in out and "33 events" in out  # GRADE 34's OIS
    assert "unless the studies share a bias favouring preop of a ratio of odds ratios" in out
    assert "reverse-Bayes (Matthews 2018): only a sceptic" in out
    assert "Net clinical benefit: not assessable: no converged fit for lc, rn" in out


def test_a_failed_fit_is_not_rated_and_exits_3(tmp_path, run_cli, monkeypatch):
    import srsbayes.cli.certainty as cmd
    from srsbayes.inference.fitting import FitSettings

    # 4 chains x 20 draws cannot reach the gate's ESS, even after the retry
    monkeypatch.setattr(cmd, "fit_settings",
                        lambda seed: FitSettings(draws=20, tune=20, seed=seed))
    status, out, _ = run_cli(["certainty", "--data", _lmd_only(tmp_path), "--out", tmp_path])
    assert status == 3
    assert "certainty: not assessable: the fit did not converge" in out
    d = json.loads((tmp_path / "certainty.json").read_text(encoding="utf-8"))
    assert d["converged"] is False and d["outcomes"]["lmd"]["relative"] is None


@pytest.mark.parametrize(("args", "message"), [
    (["--baseline-risk", "1.2"], "column '--baseline-risk': a risk must be between 0 and 1"),
    (["--baseline-risk", "xyz=0.1"], "unknown outcome 'xyz'"),
    (["--baseline-risk", "lmd=a"], "not a number: 'a'"),
    (["--weights", "missing.toml"], "missing.toml: weights file not found"),
])
def test_bad_input_exits_2_before_any_fit(tmp_path, run_cli, monkeypatch, args, message):
    import srsbayes.analysis.evidence as cert

    monkeypatch.setattr(cert, "fit_evidence", functools.partial(pytest.fail, "fitted"))
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(["certainty", *args])
    assert status == 2 and out == "" and message in err and err.count("\n") == 1
    assert not (tmp_path / "reports").exists()
