"""``python -m srsbayes validate``: simulation-based calibration of every model family."""

from __future__ import annotations

import argparse

from ..inputs.data import default_table
from ..inputs.specs import load_specs
from ..outputs import check_output_path
from ..resources import default_out
from ..validation.run import EXIT_SBC_REJECTED, run_validation


def cli_main(args: argparse.Namespace) -> int:
    """Exit 0 if every uniformity test passes, else 4."""
    out = args.out or default_out("validation")
    check_output_path(out)  # before anything is simulated
    specs = load_specs(args.models)
    table = default_table(specs, args.data)
    passed = run_validation(table, specs, out, n_sims=args.sims, seed=args.seed)
    print(f"SBC {'PASSED' if passed else 'FAILED'}; outputs in {out}")
    return 0 if passed else EXIT_SBC_REJECTED
