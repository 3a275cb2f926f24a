"""``python -m srsbayes certainty``: fit every outcome, rate the certainty of its evidence
(GRADE) and print the summary-of-findings table and the net clinical benefit.

Exit status 0, 3 when a fit failed its convergence gate (that outcome is "not
assessable"), 2 for bad input (checked before anything is fitted). ``certainty.json`` is
written into ``--out`` (default ``reports/``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_UNCONVERGED, InputError
from ..inputs.data import default_table
from ..inputs.question import read_question
from ..inputs.specs import OutcomeSpec, load_specs
from ..outputs import check_output_path
from ..resources import default_out
from ..values import is_ascii_number

if TYPE_CHECKING:
    from ..inference.fitting import FitSettings


def parse_baseline_risks(values: list[str], specs: dict[str, OutcomeSpec]
                         ) -> dict[str | None, list[float]]:
    """``--baseline-risk R`` (every binary outcome) or ``ID=R`` (one outcome), 0 < R < 1."""
    out: dict[str | None, list[float]] = {}
    for text in values:
        key, _, value = text.rpartition("=")
        if key and key not in specs:
            raise InputError(f"unknown outcome {key!r}; specs exist for: {', '.join(specs)}",
                             column="--baseline-risk")
        if not is_ascii_number(value):  # float() also reads '0_1', '٠.١' and 'inf'
            raise InputError(f"not a number: {value!r}", column="--baseline-risk")
        r = float(value)
        if not (math.isfinite(r) and 0 < r < 1):
            raise InputError(f"a risk must be between 0 and 1 (exclusive), got {value}",
                             column="--baseline-risk")
        out.setdefault(key or None, []).append(r)
    return out


def fit_settings(seed: int) -> FitSettings:
    """The sampler settings of every fit (the defaults of ``fit``, with ``--seed``)."""
    from ..inference.fitting import FitSettings

    return FitSettings(seed=seed)


def cli_main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..analysis.evidence import fit_evidence
    from ..analysis.provenance import run_provenance
    from ..audit import run_audit
    from ..certainty import assess, load_weights, write_certainty
    from ..certainty.formatting import format_text
    from .fit import import_sampler

    specs = load_specs(args.models)
    table = default_table(specs, args.data)
    stated = parse_baseline_risks(args.baseline_risk, specs)
    question = None if args.question is None else read_question(args.question)
    settings = load_weights(args.weights)
    out = Path(args.out) if args.out else default_out(data=args.data)
    check_output_path(out)  # before anything is fitted
    findings = run_audit(table, specs)  # the bundled paper only for the bundled data
    import_sampler()  # before anything imports ArviZ
    fitting = fit_settings(args.seed)
    evidence = fit_evidence(table, specs, fitting, stated=stated)
    report = assess(evidence, findings, settings, stated=stated, seed=args.seed,
                    question=question)
    report = replace(report, provenance=run_provenance(
        table, [(ev.spec, ev.summary) for ev in evidence], fitting))
    write_certainty(report, out / "certainty.json")
    if args.json:  # exactly the file's content
        print((out / "certainty.json").read_text(encoding="utf-8"), end="")
    else:
        print(format_text(report, question))
        print(f"\nwrote {out / 'certainty.json'}")
    return 0 if report.converged else EXIT_UNCONVERGED
