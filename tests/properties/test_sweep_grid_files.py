"""Grid files: any text or bytes given to ``load_grid`` yield a Grid or a one-line
InputError naming the file, never another exception (hypothesis), plus the two inputs that
broke it: nesting deeper than tomllib can recurse, and a ``[cross]`` product too large to
expand."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import MODELS_DIR
from srsbayes.errors import InputError
from srsbayes.families import FAMILIES
from srsbayes.inputs.specs import load_specs
from srsbayes.sensitivity.grid import MAX_SETTINGS, Grid, load_grid

SPECS = load_specs(MODELS_DIR)
GRID_SPECS = [SPECS["lmd"], SPECS["os"]]  # one spec per family
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _load(content: bytes, spec_index: int) -> Grid | InputError:
    """``load_grid`` of ``content`` written to a file: the Grid or the InputError raised.

    Any other exception propagates and fails the test.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.toml"
        path.write_bytes(content)
        try:
            grid = load_grid(path, GRID_SPECS[spec_index])
        except InputError as exc:
            text = str(exc)
            assert text.splitlines() == [text], text  # no line break of any kind
            assert text.startswith(str(path)), text  # names the file
            return exc
    _check_grid(grid, GRID_SPECS[spec_index])
    return grid


def _check_grid(grid: Grid, spec) -> None:
    labels = [s.label for s in grid.settings]
    assert grid.settings and len(set(labels)) == len(labels) <= MAX_SETTINGS
    slots = FAMILIES[spec.family].slots
    for s in grid.settings:
        assert s.label == s.label.strip() and s.label
        assert set(s.priors) <= set(slots) and s.kind == "prior"
    assert isinstance(grid.data_level, bool) and isinstance(grid.psense, bool)


# -- TOML built from the grid grammar, so most examples reach past the parser -------------------

_NAMES = ["normal", "halfnormal", "halfcauchy", "halfstudentt", "studentt", "lognormal",
          "uniform", "turner", "uisd", "gamma", "Normal", ""]
_ARGS = st.sampled_from(["0", "1", "-1", "0.5", "1e400", "-1e-400", "nan", "inf", "x", "",
                         "general", "infection", "nonpharma_nonpharma", "2.5", "1e308"])
priors_text = st.builds(lambda name, args: f"{name}({', '.join(args)})",
                        st.sampled_from(_NAMES), st.lists(_ARGS, max_size=3))
_KEYS = ["effect", "tau", "baseline", "se_inflation", "label", "dist", "data_level", "psense",
         "slope", ""]
keys = st.sampled_from(_KEYS) | st.text(max_size=4)
scalars = (priors_text | st.text(max_size=6) | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=12)
documents = st.dictionaries(st.sampled_from(["setting", "cross", "options"]) | keys, values,
                            max_size=4)

# Documents shaped like grids (right keys and types, mostly), so the checks past the
# top level run on most examples.
_SLOTS = st.sampled_from(["effect", "tau", "baseline", "se_inflation", "slope"])
_GOOD_PRIORS = st.sampled_from(["normal(0, 1)", "normal(0, 0.35)", "halfnormal(0.5)",
                                "halfcauchy(1)", "uniform(0, 2)", "uniform(-1, 1)",
                                "turner(general)", "turner(infection, nonpharma_nonpharma)",
                                "uisd(0.125)", "lognormal(0, 1)", "studentt(3, 0, 1)"])
prior_values = (_GOOD_PRIORS | priors_text
                | st.fixed_dictionaries({"dist": _GOOD_PRIORS},
                                        optional={"label": st.text(max_size=5) | st.integers(),
                                                  "extra": st.just(1)}))
setting_tables = st.dictionaries(_SLOTS | st.just("label"), prior_values | st.text(max_size=4),
                                 max_size=3)
grid_documents = st.fixed_dictionaries({}, optional={
    "setting": st.lists(setting_tables, max_size=4) | setting_tables,
    "cross": st.dictionaries(_SLOTS, st.lists(prior_values, max_size=3) | prior_values,
                             max_size=3),
    "options": st.dictionaries(st.sampled_from(["data_level", "psense", "loo"]),
                               st.booleans() | st.integers(0, 1), max_size=2),
})


def _toml(value) -> str:
    """TOML for a JSON-like value: inline tables and arrays, basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}"
                           for k, v in value.items()) + "}"


def _document(doc: dict) -> str:
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}\n" for k, v in doc.items())


@SETTINGS
@given(doc=documents, spec_index=st.integers(0, 1))
def test_any_grid_like_document_gives_a_grid_or_one_line_input_error(doc, spec_index):
    _load(_document(doc).encode("utf-8"), spec_index)


@SETTINGS
@given(doc=grid_documents, spec_index=st.integers(0, 1))
def test_any_grid_shaped_document_gives_a_grid_or_one_line_input_error(doc, spec_index):
    result = _load(_document(doc).encode("utf-8"), spec_index)
    event("grid" if isinstance(result, Grid) else "InputError")


@SETTINGS
@given(text=st.text(max_size=200), spec_index=st.integers(0, 1))
def test_any_text_gives_a_grid_or_one_line_input_error(text, spec_index):
    _load(text.encode("utf-8"), spec_index)


@SETTINGS
@given(content=st.binary(max_size=200), spec_index=st.integers(0, 1))
def test_any_bytes_give_a_grid_or_one_line_input_error(content, spec_index):
    _load(content, spec_index)


def test_the_grammar_reaches_valid_grids():
    """The generated documents are not all rejected: a hand-built one from the grammar loads."""
    doc = {"setting": [{"effect": "normal(0, 1)", "label": " a "}, {"tau": "halfnormal(1)"}],
           "cross": {"tau": ["halfnormal(0.5)", {"dist": "halfcauchy(1)", "label": "hc"}]},
           "options": {"psense": False}}
    grid = _load(_document(doc).encode("utf-8"), 0)
    assert isinstance(grid, Grid) and len(grid.settings) == 4 and grid.psense is False
    assert [s.label for s in grid.settings][2:] == ["a", "τ HN(1)"]


# -- what broke ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["setting = " + "[" * 2000 + "]" * 2000,
                                  "cross = " + "{a = " * 2000 + "1" + "}" * 2000])
def test_deeply_nested_toml_is_an_input_error(text):
    """Past the recursion limit the parser's RecursionError becomes "nested too deeply";
    where the limit is higher (pytest-xdist workers raise it) the document parses and the
    grid's own checks reject it. Either way: a one-line InputError, never a crash."""
    err = _load(text.encode("utf-8"), 0)
    assert isinstance(err, InputError) and "\n" not in err.oneline()
    assert "nested too deeply" in str(err) or "must be a table" in str(err) \
        or "unknown prior name" in str(err)


def test_a_huge_cross_product_is_refused_before_it_is_expanded():
    taus = ", ".join(f'"halfnormal({i + 1})"' for i in range(40))
    effects = ", ".join(f'"normal(0, {i + 1})"' for i in range(40))
    baselines = ", ".join(f'"normal({i}, 2)"' for i in range(40))
    text = f"[cross]\ntau = [{taus}]\neffect = [{effects}]\nbaseline = [{baselines}]\n"
    err = _load(text.encode("utf-8"), 0)  # 64,000 combinations
    assert isinstance(err, InputError)
    assert "column 'cross': 64000 combinations; a grid has at most 1000 settings" in str(err)
    taus = ", ".join(f'"halfnormal({i + 1})"' for i in range(25))
    grid = _load(f"[cross]\ntau = [{taus}]\neffect = [{effects}]\n".encode(), 0)
    assert isinstance(grid, Grid) and len(grid.settings) == MAX_SETTINGS == 1000
    assert grid.settings[-1].label == "τ HN(25), effect N(0, 40)"


def test_a_difference_outcome_grid_is_scaled_by_its_smallest_important_difference():
    """Mean difference of the eight schools (threshold 5 points): sceptical N(0, 5 / 1.96),
    so 95% of the prior within ±5, vague N(0, 250); τ priors HN(2.5), HN(5), HN(10),
    HC(5), in points."""
    from dataclasses import replace

    from srsbayes.sensitivity.grid import default_grid

    spec = load_specs(Path(__file__).parents[1] / "data" / "contrast_models")["schools"]
    grid = default_grid(spec)
    effects = {(p.dist, p.params) for p in (s.priors["effect"] for s in grid.settings)}
    assert ("normal", (0.0, float(f"{5 / 1.959964:.6g}"))) in effects
    assert ("normal", (0.0, 250.0)) in effects
    taus = {(p.dist, p.params) for p in (s.priors["tau"] for s in grid.settings)}
    assert {("halfnormal", (2.5,)), ("halfnormal", (5.0,)), ("halfnormal", (10.0,)),
            ("halfcauchy", (5.0,))} <= taus
    labels = " ".join(s.priors["effect"].label or "" for s in grid.settings)
    assert "95% of mean differences within ±5" in labels and "0.5-2" not in labels
    with pytest.raises(InputError, match="smallest important difference"):
        default_grid(replace(spec, thresholds=()))
