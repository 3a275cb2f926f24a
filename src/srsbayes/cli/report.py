"""``python -m srsbayes report``: fit every outcome and write the clinical report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analysis.progress import Progress
from ..analysis.results import SweepOptions, TrialOptions
from ..errors import InputError
from ..inference.fitting import FitSettings
from ..inputs.data import default_table
from ..inputs.question import read_question
from ..inputs.specs import load_specs
from ..parallel import backend_from
from ..report.build import write_report
from ..resources import default_out


def cli_main(args: argparse.Namespace) -> int:
    """0 when every fit converged, 3 when a fit failed its gate, 2 for bad input."""
    specs = load_specs(args.models)
    table = default_table(specs, args.data)
    out = args.out or default_out(data=args.data)
    question = None if args.question is None else read_question(args.question)
    trials = trial_options(args)
    try:
        backend = backend_from(args.scheduler, args.workers)
    except ValueError as exc:
        raise InputError(str(exc), column="--scheduler") from None
    # The sweeps' settings run on Dask when asked; the outcomes' own fits stay here.
    options = SweepOptions(backend=backend) if backend.kind != "threads" else None
    progress = Progress(0, enabled=not args.no_progress)
    report = write_report(table, specs, Path(out),
                          settings=FitSettings(seed=args.seed),
                          progress=progress, sweep_options=options, trials=trials,
                          pooled_path=args.pooled, claims_path=args.claims,
                          paper_path=args.paper, question=question)
    progress.close()
    failed = [o.spec.id for o in report.outcomes if not o.ok]
    print(f"wrote {Path(out) / 'index.html'} and {Path(out) / 'index.md'}")
    if failed:
        print("NOT TRUSTWORTHY (no result reported): " + ", ".join(failed), file=sys.stderr)
    return report.exit_status


def trial_options(args: argparse.Namespace) -> TrialOptions | None:
    """``write_report``'s ``trials`` from ``--trials``, ``--trial-size`` and ``--trial-sims``
    (checked before anything is fitted or written)."""
    if getattr(args, "trials", None) is None:
        if getattr(args, "trial_size", []):
            raise InputError("needs --trials", column="--trial-size")
        return None
    from ..trials.design import load_designs

    designs = load_designs(None if args.trials == "bundled" else args.trials)
    sizes: dict[str, tuple[int, int]] = {}
    for text in args.trial_size:
        name, _, value = text.partition("=")
        parts = value.split(",")
        if not name or len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0
                                                  for p in parts):
            raise InputError(f"must be ID=N_PREOP,N_POSTOP with sizes >= 1, got {text!r}",
                             column="--trial-size")
        known = {n.casefold() for d in designs.values() for n in d.names()}
        if name.casefold() not in known:
            raise InputError(f"no trial {name!r} in the trials file", column="--trial-size")
        sizes[name] = (int(parts[0]), int(parts[1]))
    if args.trial_sims < 100:
        raise InputError(f"must be >= 100, got {args.trial_sims}", column="--trial-sims")
    return TrialOptions(designs=list(designs.values()), sizes=sizes, sims=args.trial_sims)
