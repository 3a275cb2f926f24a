"""Property tests of the data layer (hypothesis).

(a) Any valid table loads, with the right line numbers and event counts, and survives a
    round trip through ``DataFrame.to_csv``.
(b) Any single corruption of a valid table is rejected with an :class:`InputError` that
    names the right line and column; through the command line (``audit``), the exit status
    is 2 and nothing is written.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODELS_DIR, files_under
from srsbayes.errors import EXIT_INPUT, InputError
from srsbayes.families import FAMILIES
from srsbayes.inputs.data import ARMS, read_table
from srsbayes.inputs.specs import load_specs

SPECS = load_specs(MODELS_DIR)
BINARY = sorted(k for k, s in SPECS.items() if FAMILIES[s.family].count_data)
COLUMNS = ["study", "outcome", "arm", "n", "events", "percent", "follow_up_months",
           "histology"]
# Derandomized, no example database: CI sees the same examples every run.
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Study names exercise CSV quoting: commas, quotes, non-ASCII and even line breaks.
study_names = st.text(alphabet=st.sampled_from('ABCxyz019 -,"é\n'), min_size=1,
                      max_size=10).map(str.strip).filter(bool)


@st.composite
def tables(draw) -> list[dict]:
    """Rows of a valid study table (dicts; None = not reported), in random order."""
    outcomes = draw(st.lists(st.sampled_from(BINARY), min_size=1, max_size=len(BINARY),
                             unique=True))
    studies = draw(st.lists(study_names, min_size=2, max_size=6, unique=True))
    with_follow_up = draw(st.booleans())
    rows = []
    for study in studies:
        follow_up = draw(st.none() | st.floats(0.5, 120).map(lambda x: round(x, 1)))
        histology = draw(st.sampled_from(["NSCLC", "breast", "", "melanoma, BRAF+", "NA"]))
        for outcome in outcomes:
            for arm in ARMS:
                n = draw(st.integers(1, 500))
                events = draw(st.integers(0, n))
                given_as = draw(st.sampled_from(["events", "percent", "both"]))
                # text, as written at 0-2 decimals: the precision the loader checks at
                percent = f"{100 * events / n:.{draw(st.integers(0, 2))}f}"
                rows.append({
                    "study": study,
                    "outcome": draw(st.sampled_from([outcome, outcome.upper()])),
                    "arm": draw(st.sampled_from([arm, arm.capitalize()])),
                    "n": n,
                    "events": None if given_as == "percent" else events,
                    "percent": None if given_as == "events" else percent,
                    "follow_up_months": follow_up if with_follow_up else None,
                    "histology": histology,
                })
    return draw(st.permutations(rows))


def to_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("n", "events"):
        if all(isinstance(v, int) or v is None for v in df[col]):
            df[col] = df[col].astype("Int64")  # written as 12, not 12.0
    return df


def to_csv(rows: list[dict]) -> str:
    return to_frame(rows).to_csv(index=False, lineterminator="\n")


def expected_lines(rows: list[dict]) -> list[int]:
    """File line of each row: the header is line 1, quoted line breaks push rows down."""
    lines, line = [], 2
    for r in rows:
        lines.append(line)
        line += 1 + sum(str(v).count("\n") for v in r.values() if v is not None)
    return lines


@contextlib.contextmanager
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def write(d: Path, text: str, name: str = "studies.csv") -> Path:
    path = d / name
    path.write_bytes(text.encode("utf-8"))
    return path


# -- (a) valid tables ----------------------------------------------------------------------


@SETTINGS
@given(tables())
def test_valid_table_loads_and_round_trips(rows):
    with scratch() as d:
        first = read_table(write(d, to_csv(rows)), SPECS)
        frame = first.frame
        assert len(frame) == len(rows)
        assert frame["row"].tolist() == expected_lines(rows)
        assert frame["study"].tolist() == [r["study"] for r in rows]
        assert frame["outcome"].tolist() == [r["outcome"].lower() for r in rows]
        assert frame["arm"].tolist() == [r["arm"].lower() for r in rows]
        assert frame["n"].tolist() == [r["n"] for r in rows]
        assert frame["histology"].tolist() == [r["histology"] for r in rows]
        assert first.covariates == ["histology"]
        for r, (_, got) in zip(rows, frame.iterrows(), strict=True):
            if r["events"] is not None:
                assert got["events"] == r["events"]
                assert got["events_rule"] == "reported"
            else:  # the whole count whose percentage is nearest to the reported one
                assert got["events"] == int(got["events"])
                assert 0 <= got["events"] <= r["n"]
                assert abs(got["events"] - float(r["percent"]) * r["n"] / 100) <= 0.5 + 1e-9
                assert got["events_rule"].startswith("nearest count")
            assert (np.isnan(got["percent"]) if r["percent"] is None
                    else got["percent"] == float(r["percent"]))
            fu, got_fu = r["follow_up_months"], got["follow_up_months"]
            assert np.isnan(got_fu) if fu is None else got_fu == fu

        # Write the validated frame back and reload: same table, events now all reported.
        # Percentages as written: "33" and "33.0" are different reports.
        back = frame.drop(columns=["row", "events_rule"]).assign(
            percent=[r["percent"] for r in rows]).to_csv(index=False, lineterminator="\n")
        second = read_table(write(d, back, "back.csv"), SPECS)
        pd.testing.assert_frame_equal(second.frame.drop(columns="events_rule"),
                                      frame.drop(columns="events_rule"))
        assert (second.frame["events_rule"] == "reported").all()
        # ... and from then on the round trip is exact.
        again = second.frame.drop(columns=["row", "events_rule"]).assign(
            percent=[r["percent"] for r in rows]).to_csv(index=False, lineterminator="\n")
        third = read_table(write(d, again, "again.csv"), SPECS)
        pd.testing.assert_frame_equal(third.frame, second.frame)


# -- (b) single corruptions ----------------------------------------------------------------

CORRUPTIONS = ["events_above_n", "n_not_positive", "unknown_arm", "duplicate_row", "drop_arm",
               "n_not_numeric", "percent_above_100", "percent_disagrees"]


@st.composite
def corrupted(draw) -> tuple[str, list[dict], int, str]:
    """(kind, corrupted rows, expected line, expected column)."""
    rows = [dict(r) for r in draw(tables())]
    kind = draw(st.sampled_from(CORRUPTIONS))
    i = draw(st.integers(0, len(rows) - 1))
    r = rows[i]
    column = {"events_above_n": "events", "n_not_positive": "n", "unknown_arm": "arm",
              "duplicate_row": "arm", "drop_arm": "arm", "n_not_numeric": "n",
              "percent_above_100": "percent", "percent_disagrees": "percent"}[kind]
    target = i
    match kind:
        case "events_above_n":
            r["events"] = r["n"] + draw(st.integers(1, 1000))
        case "n_not_positive":
            r["n"] = -draw(st.integers(0, 500))
        case "unknown_arm":
            r["arm"] = draw(st.sampled_from(["pre", "post", "both", "pre-op", "x", "Preoperative"]))
        case "n_not_numeric":
            r["n"] = draw(st.sampled_from(["abc", "1O", "n/a", "twelve", "", "4 5", "nan",
                                           "1e999"]))
        case "percent_above_100":
            r["percent"] = f"{100 + draw(st.floats(0.001, 1e4)):.3f}"
        case "percent_disagrees":  # events given, percent >= 1 point off at 0 decimals
            if r["events"] is None:
                r["events"] = draw(st.integers(0, r["n"]))
            implied = 100 * r["events"] / r["n"]
            r["percent"] = str(int(implied) + 2 if implied < 50 else int(implied) - 2)
        case "duplicate_row":
            j = draw(st.integers(0, len(rows)))
            rows.insert(j, dict(r))
            target = max(j, i + 1 if j <= i else i)  # the later copy is the duplicate
        case "drop_arm":
            del rows[i]
            partner = [k for k, x in enumerate(rows) if x["study"] == r["study"]
                       and x["outcome"].lower() == r["outcome"].lower()]
            assert len(partner) == 1
            target = partner[0]
    return kind, rows, expected_lines(rows)[target], column


@SETTINGS
@given(corrupted())
def test_single_corruption_is_located(case):
    kind, rows, line, column = case
    with scratch() as d:
        path = write(d, to_csv(rows))
        with pytest.raises(InputError) as info:
            read_table(path, SPECS)
    err = info.value
    assert (err.file, err.row, err.column) == (str(path), line, column), (kind, str(err))
    assert str(err).startswith(f"{path}:{line}: column '{column}': ")


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(corrupted())
def test_single_corruption_via_cli(run_cli, case):
    kind, rows, line, column = case
    with scratch() as d, contextlib.chdir(d):
        path = write(d, to_csv(rows))
        before = files_under(d)
        status, out, err = run_cli(["audit", "--data", path])
        assert files_under(d) == before
    assert status == EXIT_INPUT, (kind, out, err)
    assert out == ""
    assert err.startswith(f"srsbayes: error: {path}:{line}: column '{column}': "), (kind, err)
    assert err.count("\n") == 1
