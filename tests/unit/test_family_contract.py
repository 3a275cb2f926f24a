"""The family contract (``srsbayes.families.base.Family``): written down, not probed, and
the only place that knows a family (issue 21, items 3 and 10)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import srsbayes
from srsbayes.families import FAMILIES, get_family, measure_info
from srsbayes.families.base import Family
from srsbayes.families.measures import MEASURES, measure, measure_word

SRC = Path(srsbayes.__file__).parent
FAMILY_MODULES = tuple(info.module.rsplit(".", 1)[-1] for info in FAMILIES.values())
OBSERVED_PREFIXES = ("events_", "log_median", "log_")
"""Prefixes of observed-variable names that presentation once branched on."""


def _outside_families() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if p.relative_to(SRC).parts[0] != "families"]


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, kinds) and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}


def test_no_family_name_or_observed_prefix_outside_families():
    """Outside ``families/`` no code names a family (a string equal to a registered name, an
    import of a family's module) or branches on an observed-variable prefix; docstrings
    may cite them."""
    found = []
    for path in _outside_families():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docs
                    and (node.value in FAMILIES or node.value in OBSERVED_PREFIXES)):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value!r}")
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if "families" not in parts:
                    continue
                below = parts[parts.index("families") + 1:]
                named = below[:1] or [a.name for a in node.names]
                if any(n.startswith(FAMILY_MODULES) for n in named):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.module}")
    assert found == []


def test_the_checks_above_see_what_they_forbid(tmp_path):
    """The AST check flags a family name, a family-module import and a prefix branch."""
    code = ('from srsbayes.families.binomial import count_set\n'
            'x = "lognormal_median"\n'
            'y = name.startswith("events_")\n')
    tree = ast.parse(code)
    consts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert "lognormal_median" in FAMILIES and "events_" in OBSERVED_PREFIXES
    assert set(consts) == {"lognormal_median", "events_"}
    imports = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert imports[0].split(".")[2].startswith(FAMILY_MODULES)


def test_no_module_probes_a_family():
    """Optional hooks have defaults on :class:`Family`, so nothing asks whether a family has
    one (``getattr(fam, ...)``, ``hasattr(get_family(...), ...)``)."""
    probe = re.compile(r"\b(getattr|hasattr)\(\s*(get_family\(|fam\b|family_module\b|"
                       r"fam_mod\b)")
    hits = [f"{p.relative_to(SRC)}:{i}" for p in SRC.rglob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if probe.search(line)]
    assert hits == []


def test_every_registered_family_is_a_family_of_its_name():
    for name, info in FAMILIES.items():
        fam = get_family(name)
        assert isinstance(fam, Family) and fam.name == name
        assert fam.module_name == info.module and fam.source_file.endswith(".py")
        assert fam.__doc__ == __import__(info.module, fromlist=["_"]).__doc__
        assert set(fam.DIAGNOSTIC_VARS) >= {"effect", "tau"}


def test_a_family_without_a_required_method_cannot_be_made():
    class Half(Family):
        name = "half"
        DIAGNOSTIC_VARS = ("effect", "tau")

        def model_data(self, wide):
            return {}

    with pytest.raises(TypeError, match="abstract"):
        Half()


def test_pooled_comparison_belongs_to_the_family():
    """A paper's pooled percentage is compared with the model's pooled risk of that arm, a
    pooled median with its median; a published-contrast family has no arm level (what
    ``report.build.compare_pooled`` hard-coded before)."""
    assert get_family("binomial").pooled_absolute("percent") == ("risk_{arm}", "%")
    assert get_family("lognormal_median").pooled_absolute("median_months") == (
        "median_{arm}", " months")
    assert get_family("contrast").pooled_absolute("estimate") == ("", "")
    assert get_family("binomial").pooled_absolute("median_months") == ("", "")


def test_ppc_panels_belong_to_the_family():
    """Counts as % of the arm (50 patients: x 2), log medians in months, published estimates
    on their analysis scale, worded for the outcome's measure; the arm is its data code (the
    figure words it as the review question does)."""
    const = xr.Dataset({"n_preop": ("study", np.array([50.0, 25.0]))})
    b = get_family("binomial").ppc_panel("events_preop", const, 2, FAMILIES["binomial"])
    np.testing.assert_array_equal(b.scale, [2.0, 4.0])
    assert (b.unit, b.title, b.arm, b.exponentiate) == (
        "% of the arm", "patients with the event", "preop", False)
    m = get_family("lognormal_median").ppc_panel("log_median_postop", None, 2,
                                                 FAMILIES["lognormal_median"])
    assert (m.unit, m.title, m.arm, m.exponentiate) == ("median (months)", "median survival",
                                                        "postop", True)
    c = get_family("contrast").ppc_panel("estimate", None, 3, measure_info("contrast", "hr"))
    np.testing.assert_array_equal(c.scale, np.ones(3))
    assert (c.unit, c.title, c.arm) == ("log hazard ratio", "published estimate", "")
    d = get_family("contrast").ppc_panel("estimate", None, 1,
                                         measure_info("contrast", "mean_difference"))
    assert d.unit == "mean difference"


def test_measures_table_words_every_family():
    """The registered families and the contrast family's measures read their words from the
    one measures table."""
    assert (FAMILIES["binomial"].measure_name, FAMILIES["binomial"].measure_abbrev) == (
        "odds ratio", "OR")
    assert FAMILIES["lognormal_median"].axis_label == "Ratio of median OS"
    assert FAMILIES["contrast"].measure_plural == "effect estimates"
    for code, m in MEASURES.items():
        assert measure(code) is m and measure(m.spec_name) is m
        assert measure_word(code, plural=True) == m.plural
    info = measure_info("contrast", "hazard_ratio")
    assert (info.measure_name, info.axis_label, info.log_scale) == (
        "hazard ratio", "Hazard ratio", True)
    assert measure_word("unknown") == "unknown"


def test_module_constants_of_contract_names_are_the_familys():
    """A family module's constant named as a contract attribute (``STATED_LEVEL_UNIT``, ...)
    is what the family answers, not the contract's default (issue 21: the os outcome's
    absolute effects lost their unit "months" when one was left out)."""
    import importlib

    names = [a for a in dir(Family) if a.isupper()]
    assert {"STATED_LEVEL_UNIT", "STATED_BASELINE_LABEL", "MODEL_OPTIONS"} <= set(names)
    for family in FAMILIES:
        fam = get_family(family)
        module = importlib.import_module(fam.module_name)
        for name in names:
            if hasattr(module, name):
                assert getattr(fam, name) == getattr(module, name), (family, name)
    assert get_family("lognormal_median").STATED_LEVEL_UNIT == "months"
    assert get_family("binomial").STATED_LEVEL_SCALE == 100.0


def test_data_table_columns_belong_to_the_family():
    """The report's data table of arm rows (now ``_COUNT_HEAD``/``_MEDIAN_HEAD`` of
    ``report/sections/data.py``) as each family declares it, every key a study-table column;
    a published-contrast family has no arm table."""
    from srsbayes.inputs.data import KNOWN

    binomial, median = get_family("binomial").ARM_TABLE, get_family("lognormal_median").ARM_TABLE
    assert [c.head for c in binomial] == ["Reported %", "Events used", "Rule"]
    assert [c.head for c in median] == ["Median (months)", "Follow-up", "Deaths", "Median CI"]
    assert [c.text for c in binomial] == [False, False, True]
    assert median[-1].keys == ("median_ci_low", "median_ci_high")
    keys = {k for c in (*binomial, *median) for k in c.keys}
    assert keys - set(KNOWN) <= {"events_rule"}
    assert get_family("contrast").ARM_TABLE == ()
