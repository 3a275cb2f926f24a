"""``python -m srsbayes report``: fit every outcome and write the clinical report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from ..inference.fitting import FitSettings
from ..inputs.data import default_table
from ..inputs.specs import load_specs
from ..parallel import backend_from
from ..report.build import Progress, write_report
from ..resources import default_out


def cli_main(args: argparse.Namespace) -> int:
    """0 when every fit converged, 3 when a fit failed its gate, 2 for bad input."""
    specs = load_specs(args.models)
    table = default_table(specs, args.data)
    out = args.out or default_out()
    try:
        backend = backend_from(args.scheduler, args.workers)
    except ValueError as exc:
        raise InputError(str(exc), column="--scheduler") from None
    # The sweeps' settings run on Dask when asked; the outcomes' own fits stay here.
    options = {"backend": backend} if backend.kind != "threads" else None
    progress = Progress(0, enabled=not args.no_progress)
    report = write_report(table, specs, Path(out),
                          settings=FitSettings(seed=args.seed),
                          progress=progress, sweep_options=options)
    progress.close()
    failed = [o.spec.id for o in report.outcomes if not o.ok]
    print(f"wrote {Path(out) / 'index.html'} and {Path(out) / 'index.md'}")
    if failed:
        print("NOT TRUSTWORTHY (no result reported): " + ", ".join(failed), file=sys.stderr)
    return report.exit_status
