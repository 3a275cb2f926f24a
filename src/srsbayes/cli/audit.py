"""``python -m srsbayes audit``: print the evidence audit's findings."""

from __future__ import annotations

import argparse
import sys

from ..audit import format_json, format_text, run_audit
from ..inputs.data import default_table
from ..inputs.question import read_question
from ..inputs.specs import load_specs


def cli_main(args: argparse.Namespace) -> int:
    """Print the findings as text or JSON; 0 whenever the audit ran.

    A user's own ``--data`` is audited on its own: the paper-level checks run on the
    bundled paper only for the bundled data, otherwise on ``--pooled``, ``--claims`` and
    ``--paper`` when given (:func:`srsbayes.audit.run_audit`).
    """
    specs = load_specs(args.models)
    table = default_table(specs, args.data)
    question = None if args.question is None else read_question(args.question)
    findings = run_audit(table, specs, args.pooled, claims_path=args.claims,
                         paper_path=args.paper, question=question)
    sys.stdout.write(format_json(findings) if args.json else format_text(findings, table))
    return 0
