"""Fuzz tests: no input crashes the loaders or the commands (hypothesis).

Whatever a file holds, :func:`read_table` returns a valid :class:`StudyTable` and
:func:`load_spec_file` a valid :class:`OutcomeSpec`, or they raise an :class:`InputError`
whose ``oneline()`` is one line; never another exception. Through the command line
(``audit --data``, ``audit --models``, ``fit lmd --data ... --out``) a bad file gives exit
status 2, one line on stderr and no file written.

Inputs: arbitrary bytes, arbitrary text, the bundled files with random byte edits, and
structurally valid CSV (and TOML) with random values in the right places, so that the
checks of single values, rows and groups are reached and not only the header check
(:func:`test_random_cells_reach_every_check` and :func:`test_broken_specs_reach_every_check`
assert that they are).

Examples are few and derandomized (a fixed sequence, no example database), so the file
runs in seconds and CI sees the same inputs every time.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import MODELS_DIR, nothing_written
from srsbayes.errors import EXIT_INPUT, InputError
from srsbayes.families import ARMS, FAMILIES
from srsbayes.inputs.data import DEFAULT_DATA, KNOWN, StudyTable, read_table
from srsbayes.inputs.specs import OutcomeSpec, load_spec_file, load_specs

SPECS = load_specs(MODELS_DIR)


def fuzz(n: int) -> settings:
    """``n`` derandomized examples, no deadline, no example database."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def write(d: Path, content: str | bytes, name: str = "studies.csv") -> Path:
    path = d / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def assert_one_line(err: InputError, path: Path) -> None:
    line = err.oneline()
    assert len(line.splitlines()) == 1 and "\n" not in line and "\r" not in line, line
    assert err.file == str(path)
    assert line.startswith(str(path))
    assert line == str(err)


# -- what a valid result must be -------------------------------------------------------------


def assert_valid_table(table: StudyTable) -> None:
    """Invariants every loaded table keeps, whatever file it came from (checked on its arm
    rows; contrast rows, ``arm`` empty, are the contrast tests' business)."""
    assert len(table.frame) > 0
    assert table.frame["row"].is_monotonic_increasing and table.frame["row"].min() >= 2
    assert set(table.frame["outcome"]) <= set(SPECS)
    frame = table.frame[table.frame["arm"] != ""] if "measure" in table.frame else table.frame
    assert set(frame["arm"]) <= set(ARMS)
    assert not frame.duplicated(["study", "outcome", "arm"]).any()
    assert (frame.groupby(["study", "outcome"])["arm"].nunique() == 2).all()
    assert (frame["n"] > 0).all() and (frame["n"] == frame["n"].round()).all()
    for _, rec in frame.iterrows():
        if FAMILIES[SPECS[rec["outcome"]].family].count_data:
            assert 0 <= rec["events"] <= rec["n"] and rec["events"] == round(rec["events"])
            assert rec["events_rule"]
        else:
            assert rec["median_months"] > 0
            assert not rec["deaths"] <= 0  # NaN (not reported) or >= 1
    for cov in table.covariates:
        assert (frame.groupby(["study", "outcome"])[cov].nunique() == 1).all()


def load_table(path: Path) -> StudyTable | InputError:
    """The table, or the one-line InputError; any other exception fails the test."""
    try:
        table = read_table(path, SPECS)
    except InputError as err:
        assert_one_line(err, path)
        return err
    assert_valid_table(table)
    return table


# -- strategies: study tables ----------------------------------------------------------------

BUNDLED = DEFAULT_DATA.read_bytes()

CSV_TOKENS = [*',;\t"\'\r\n  .-+e0123456789', "a", "é", "\x00", "\x0b", "\u2028", "\ufeff",
              "study", "outcome", "arm", "n", "lmd", "os", "preop", "postop", "percent",
              "events", "study,outcome,arm,n\n"]
csv_text = st.lists(st.sampled_from(CSV_TOKENS), max_size=150).map("".join)
# Pieces of CSV and bytes that are no UTF-8, so that random files have some structure
# (purely random bytes almost always fail on their first byte >= 0x80).
BYTE_TOKENS = [b",", b"\n", b"\r", b"\r\n", b'"', b" ", b"\x00", b"\x80", b"\xff", b"\xe9",
               b"\xc3\xa9", b"\xef\xbb\xbf", b"1", b"x", b"lmd", b"os", b"preop", b"postop",
               BUNDLED.splitlines(keepends=True)[0], b"S1,lmd,preop,10,1\n",
               b"S1,os,postop,9,,,12\n"]
byte_soup = st.lists(st.sampled_from(BYTE_TOKENS), max_size=80).map(b"".join)


@st.composite
def edited_bytes(draw, base: bytes = BUNDLED) -> bytes:
    """``base`` with a few random byte insertions, deletions and replacements."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data)))
        match draw(st.sampled_from(["insert", "delete", "replace"])):
            case "insert":
                data[i:i] = draw(st.binary(min_size=1, max_size=4))
            case "delete":
                del data[i:i + draw(st.integers(1, 40))]
            case "replace":
                data[i:i + 1] = draw(st.binary(min_size=1, max_size=2))
    return bytes(data)


def decimal_text(draw, lo: float, hi: float) -> str:
    """A value in ``[lo, hi]`` written with 0-2 decimals."""
    return f"{draw(st.floats(lo, hi)):.{draw(st.integers(0, 2))}f}"


@st.composite
def binary_cells(draw) -> dict[str, str]:
    """A consistent binary row: events in 0..n and/or the percentage they give."""
    n = draw(st.integers(1, 300))
    events = draw(st.integers(0, n))
    percent = f"{100 * events / n:.{draw(st.integers(0, 2))}f}"
    given_as = draw(st.sampled_from(["events", "percent", "both"]))
    return {"n": str(n), "events": "" if given_as == "percent" else str(events),
            "percent": "" if given_as == "events" else percent}


@st.composite
def median_cells(draw) -> dict[str, str]:
    """A consistent median row: interval around the median, deaths in 1..n, if given."""
    n = draw(st.integers(1, 300))
    median = draw(st.floats(1, 60))
    return {"n": str(n), "median_months": f"{median:.1f}",
            "median_ci_low": draw(st.sampled_from(["", f"{median * 0.8:.1f}"])),
            "median_ci_high": draw(st.sampled_from(["", f"{median * 1.3:.1f}"])),
            "deaths": draw(st.sampled_from(["", str(draw(st.integers(1, n)))]))}


# Values that break a cell (or are fine in some columns): every check needs some of them.
junk = st.sampled_from(["", "-1", "0", "0.5", "nan", "inf", "-inf", "1e400", "1e300", "x",
                        "12,5", "1_0", "½", "٣", "NA", "10%", "0x10", "1e-999999999", "101",
                        "9" * 30, "2.25e1", "Preop", "LMD", "HR", "OR", "rct", "low", "yes",
                        "95", "1.2", "0.95"])
# Columns a corruption hits: those every row has (None), and those of one kind of row
# (True: count data, False: medians).
CORRUPTIBLE = {"n": None, "follow_up_months": None, "outcome": None, "arm": None,
               "study": None, "histology": None, "events": True, "percent": True,
               "median_months": False, "median_ci_low": False, "median_ci_high": False,
               "deaths": False}
BY_KIND = {counts: [k for k, s in SPECS.items() if FAMILIES[s.family].count_data == counts]
           for counts in (True, False)}


def counts_row(row: dict) -> bool | None:
    """Whether the row is count data (None: its outcome was corrupted)."""
    spec = SPECS.get(row["outcome"].lower())
    return None if spec is None else FAMILIES[spec.family].count_data


# Values that no column accepts where a corruption puts them (study: empty; histology: a
# value the row's other arm does not have).
INVALID = {"study": [""], "outcome": ["x", "LMD2", "preop"], "arm": ["x", "pre", "both"],
           "histology": ["other"], **{c: ["x", "nan", "inf", "-1", "1e400", "12,5", "-0.5"]
                                       for c in CORRUPTIBLE if CORRUPTIBLE[c] is not None},
           "n": ["x", "-1", "0", "2.5", "1e300", "NA"],
           "follow_up_months": ["x", "-1", "0", "inf", "1e-999999999"]}


@st.composite
def random_cell_tables(draw, target: str | None = "random") -> str:
    """CSV with the right columns in any order and one consistent row per study × outcome ×
    arm, then changed.

    ``target`` ``"random"``: a few random changes (a cell replaced by a junk value, a row
    dropped or duplicated, a covariate that differs between arms); a column name: one cell
    of that column given a value it cannot take; ``"drop"``, ``"twice"``: one row dropped or
    duplicated; None: no change (the table is valid).
    """
    columns = draw(st.permutations([*KNOWN, "histology"]))
    studies = draw(st.lists(st.sampled_from(["S1", "S2", "Müller 2020", "A, B"]),
                            min_size=1, max_size=3, unique=True))
    kinds = draw(st.sampled_from([[True], [False], [True, False], [False, True]]))
    if CORRUPTIBLE.get(target) is not None and CORRUPTIBLE[target] not in kinds:
        kinds = [*kinds, CORRUPTIBLE[target]]  # a row that has the target column
    rows = []
    for study in studies:
        for counts in kinds:
            outcome = draw(st.sampled_from(BY_KIND[counts]))
            for arm in ARMS:
                row = dict.fromkeys(columns, "") | {
                    "study": study, "outcome": draw(st.sampled_from([outcome, outcome.upper()])),
                    "arm": arm, "follow_up_months": draw(st.sampled_from(["", "12", "18.5"])),
                    "histology": study[-1], "source": "Table 1"}
                rows.append(row | draw(binary_cells() if counts else median_cells()))
    if target == "random":
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
            what = draw(st.sampled_from([*CORRUPTIBLE, "drop", "twice", "any", "any"]))
            if what == "any":  # any known column, e.g. those of contrast rows
                draw(st.sampled_from(rows))[draw(st.sampled_from(columns))] = draw(junk)
            else:
                change(draw, rows, what, junk)
    elif target is not None:
        change(draw, rows, target, st.sampled_from(INVALID.get(target, [""])))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator=draw(
        st.sampled_from(["\n", "\r\n"])))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def change(draw, rows: list[dict], what: str, values: st.SearchStrategy[str]) -> None:
    """Drop or duplicate a row, or put one of ``values`` in column ``what`` of a row that
    has that column."""
    if not rows:  # every row dropped already (hypothesis can draw that, order-dependently)
        return
    i = draw(st.integers(0, len(rows) - 1))
    if what == "drop":
        del rows[i]
    elif what == "twice":
        rows.insert(i, dict(rows[i]))
    else:
        fits = [r for r in rows if CORRUPTIBLE[what] in (None, counts_row(r))]
        if fits:
            draw(st.sampled_from(fits))[what] = draw(values)


# -- read_table ------------------------------------------------------------------------------


@fuzz(100)
@given(st.one_of(st.binary(max_size=600), byte_soup))
def test_arbitrary_bytes(content):
    with scratch() as d:
        load_table(write(d, content))


@fuzz(100)
@given(st.one_of(csv_text, st.text(max_size=200)))
def test_arbitrary_text(content):
    with scratch() as d:
        load_table(write(d, content))


@fuzz(100)
@given(edited_bytes())
def test_edited_bundled_file(content):
    with scratch() as d:
        load_table(write(d, content))


@fuzz(150)
@given(random_cell_tables())
def test_random_cells(text):
    """Structurally valid CSV with random changes: valid, or one located error."""
    with scratch() as d:
        load_table(write(d, text))


@pytest.mark.parametrize("target", [None, *CORRUPTIBLE, "drop", "twice"])
def test_random_cells_reach_every_check(target):
    """Unchanged, the generated tables load; with one cell made invalid, the error names
    that cell's column; with a row dropped or duplicated, the ``arm`` column. So the
    random tables reach every check of single values, rows and groups."""
    expected = {"drop": "arm", "twice": "arm"}.get(target, target)

    @fuzz(12)
    @given(random_cell_tables(target))
    def check(text: str) -> None:
        with scratch() as d:
            result = load_table(write(d, text))
        if target is None:
            assert isinstance(result, StudyTable)
        else:
            assert isinstance(result, InputError) and result.column == expected, result

    check()


# -- load_spec_file --------------------------------------------------------------------------

BUNDLED_SPECS = {p.stem: tomllib.loads(p.read_text(encoding="utf-8"))
                 for p in sorted(MODELS_DIR.glob("*.toml"))}


def toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else toml_value(key)


def toml_value(v: object) -> str:
    """TOML for a value from tomllib (tables inline, so a document is ``key = value`` lines)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):  # a JSON string is a TOML basic string, but for DEL
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(doc: dict) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


scalars = st.one_of(st.booleans(), st.integers(-(10**20), 10**20), st.floats(),
                    st.text(max_size=12),
                    st.sampled_from(["lower", "higher", "binomial", "lognormal_median",
                                     "risk_difference", "odds_ratio", "ratio", "months"]))
toml_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                           max_leaves=6)
dists = st.one_of(
    st.sampled_from(["normal(0, 1)", "halfnormal(0.5)", "halfcauchy(1)", "lognormal(0, 1)",
                     "uniform(0, 2)", "studentt(3, 0, 1)", "turner(general)",
                     "turner(subjective, pharma_placebo)", "turner(-2.5, 1.7)", "uisd(0.5)",
                     "normal(0, -1)", "normal(0)", "halfnormal(x)", "turner(a, b, c)",
                     "turner(general, x)", "normal(0, 1e400)", "uniform(2, 1)", "gamma(1, 1)",
                     "normal(0, 1", "", "()", "turner()", "uniform(-1, 2)"]),
    st.text(alphabet=st.sampled_from(list("normalhfcuy(),. -0123456789e")), max_size=20))


@st.composite
def mutated_specs(draw) -> tuple[str, dict]:
    """(file stem, document): a bundled spec with a few random changes."""
    stem = draw(st.sampled_from(sorted(BUNDLED_SPECS)))
    doc = json.loads(json.dumps(BUNDLED_SPECS[stem]))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        match draw(st.sampled_from(["drop", "set", "add", "dist", "prior", "threshold",
                                    "family"])):
            case "drop":
                doc.pop(draw(st.sampled_from(sorted(doc))), None)
            case "set":
                doc[draw(st.sampled_from(sorted(doc) or ["id"]))] = draw(toml_values)
            case "add":
                doc[draw(st.text(min_size=1, max_size=8))] = draw(toml_values)
            case "dist" if isinstance(doc.get("priors"), dict) and doc["priors"]:
                entry = doc["priors"][draw(st.sampled_from(sorted(doc["priors"])))]
                if isinstance(entry, dict):
                    entry["dist"] = draw(dists)
            case "prior" if isinstance(doc.get("priors"), dict):
                doc["priors"][draw(st.sampled_from(["effect", "tau", "baseline",
                                                    "se_inflation", "sigma"]))] = draw(
                    st.one_of(st.builds(lambda d: {"dist": d}, dists), toml_values))
            case "threshold":
                doc["thresholds"] = draw(st.lists(st.fixed_dictionaries(
                    {"measure": scalars, "threshold": scalars}), max_size=2) | toml_values)
            case "family":
                doc["family"] = draw(st.sampled_from(["binomial", "lognormal_median"]))
    return draw(st.sampled_from([stem, "other"])), doc


def assert_valid_spec(spec: OutcomeSpec, path: Path) -> None:
    info = FAMILIES[spec.family]
    assert spec.id == path.stem
    assert set(spec.priors) == set(info.slots)
    assert spec.benefit in ("lower", "higher")
    assert 0.5 <= spec.decision_probability < 1
    for t in spec.thresholds:
        assert t.measure in info.thresholds and math.isfinite(t.threshold)
        assert t.measure == info.absolute_measure or t.threshold > 0


def load_spec(path: Path) -> OutcomeSpec | InputError:
    try:
        spec = load_spec_file(path)
    except InputError as err:
        assert_one_line(err, path)
        return err
    assert_valid_spec(spec, path)
    return spec


def test_toml_writer_round_trips():
    """The test's TOML writer writes what tomllib reads back (so mutations reach the checks)."""
    for doc in BUNDLED_SPECS.values():
        assert tomllib.loads(to_toml(doc)) == doc


@fuzz(100)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300),
                 edited_bytes((MODELS_DIR / "os.toml").read_bytes())))
def test_arbitrary_spec_files(content):
    with scratch() as d:
        load_spec(write(d, content, "os.toml"))


@fuzz(150)
@given(mutated_specs())
def test_mutated_specs(case):
    """A bundled spec with random changes: valid, or one error naming the key."""
    stem, doc = case
    with scratch() as d:
        load_spec(write(d, to_toml(doc), f"{stem}.toml"))


BAD_DISTS = ["normal(0, -1)", "halfnormal(x)", "gamma(1, 1)", "normal(0, 1", "", "()",
             "turner(a, b)", "turner(general, x, y)", "uniform(2, 1)", "normal(0, 1e400)"]
# Values each key cannot take; ``{m}`` stands for a threshold measure of the spec's family.
BAD_VALUES: dict[str, list] = {
    "id": [5, "other", ""],
    "label": [3, [], {}],
    "event": [1, ["x"]],
    "family": ["poisson", ["binomial"], 1, ""],
    "benefit": ["less", 1, []],
    "priors": ["x", [], {}, {"effect": "normal(0, 1)"}],
    "thresholds": [5, ["x"], [{"measure": "x", "threshold": 1}],
                   [{"measure": "{m}", "threshold": math.nan}],
                   [{"measure": "{m}", "threshold": "5"}],
                   [{"measure": "{m}", "threshold": 1, "units": "pp"}]],
    "decision_probability": [1, 0.3, "x", math.nan, True, 10**400],
}


@st.composite
def broken_specs(draw, target: str | None) -> tuple[str, dict]:
    """(file stem, document): a bundled spec with ``target`` given a value it cannot take
    (``"dist"``: a prior's distribution; ``"unknown"``: a misspelt key; None: unchanged)."""
    stem = draw(st.sampled_from(sorted(BUNDLED_SPECS)))
    doc = json.loads(json.dumps(BUNDLED_SPECS[stem]))  # a deep copy
    info = FAMILIES[doc["family"]]
    if target == "dist":
        slot = draw(st.sampled_from(list(info.slots)))
        wrong_support = "halfnormal(1)" if info.slots[slot] == "real" else "normal(0, 1)"
        doc["priors"][slot]["dist"] = draw(st.sampled_from([*BAD_DISTS, wrong_support]))
    elif target == "unknown":
        doc[draw(st.sampled_from(["decision_probabilty", "prior", "Label"]))] = 1
    elif target is not None:
        value = draw(st.sampled_from(BAD_VALUES[target]))
        measure = info.thresholds[0]
        doc[target] = json.loads(json.dumps(value).replace('"{m}"', json.dumps(measure)))
    return stem, doc


@pytest.mark.parametrize("target", [None, *BAD_VALUES, "dist", "unknown"])
def test_broken_specs_reach_every_check(target):
    """Unchanged, the bundled specs load through the test's TOML writer; with one key given
    a value it cannot take, the error names that key. So the random specs reach every
    check."""

    @fuzz(10)
    @given(broken_specs(target))
    def check(case: tuple[str, dict]) -> None:
        stem, doc = case
        with scratch() as d:
            result = load_spec(write(d, to_toml(doc), f"{stem}.toml"))
        if target is None:
            assert isinstance(result, OutcomeSpec)
            return
        assert isinstance(result, InputError), doc
        column = str(result.column)
        if target == "dist":  # parse errors name the entry, support errors the slot
            assert column.startswith("priors.") or column in FAMILIES[doc["family"]].slots
        elif target == "unknown":
            assert "unknown key" in result.message
        else:
            assert column.startswith(target), (column, result.message)

    check()


def test_deeply_nested_toml_is_an_input_error(tmp_path):
    """Found by fuzzing: tomllib recurses, so deep nesting raised RecursionError."""
    path = write(tmp_path, "a = " + "[" * 100_000, "os.toml")
    with pytest.raises(InputError) as info:
        load_spec_file(path)
    assert str(info.value) == f"{path}: malformed TOML: nested too deeply"


# -- through the command line ----------------------------------------------------------------

PREFIX = "srsbayes: error: "


def assert_rejected(run_cli: Callable, argv: list, d: Path) -> None:
    """Exit 2, nothing on stdout, one line on stderr, nothing written below ``d``."""
    with contextlib.chdir(d), nothing_written(d):
        status, out, err = run_cli(argv)
    assert status == EXIT_INPUT, (status, out, err)
    assert out == ""
    assert err.endswith("\n") and len(err.splitlines()) == 1, err
    assert err.startswith(PREFIX)


bad_tables = st.one_of(byte_soup, csv_text, edited_bytes(), random_cell_tables())


@fuzz(30)
@given(bad_tables)
def test_audit_cli_on_bad_data(run_cli, content):
    with scratch() as d:
        path = write(d, content)
        assume(isinstance(load_table(path), InputError))
        assert_rejected(run_cli, ["audit", "--data", path], d)


@fuzz(20)
@given(bad_tables)
def test_fit_cli_on_bad_data(run_cli, content):
    with scratch() as d:
        path = write(d, content)
        assume(isinstance(load_table(path), InputError))
        assert_rejected(run_cli, ["fit", "lmd", "--data", path, "--out", d / "out"], d)
        assert not (d / "out").exists()


@fuzz(20)
@given(st.one_of(st.binary(max_size=200), mutated_specs().map(lambda c: to_toml(c[1]))))
def test_audit_cli_on_bad_spec(run_cli, content):
    with scratch() as d:
        models = d / "models"
        models.mkdir()
        path = write(models, content, "lmd.toml")
        assume(isinstance(load_spec(path), InputError))
        assert_rejected(run_cli, ["audit", "--models", models], d)
