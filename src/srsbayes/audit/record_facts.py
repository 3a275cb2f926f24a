"""``python -m srsbayes.audit.record_facts PAPER [--out FILE]``: record the paper's facts.

Derives the audit's facts from the paper's text (:func:`srsbayes.audit.paper.derive_facts`)
and writes them to the bundled ``data/paper_facts.toml``, which the audit reads when it
is given no ``--paper``. Run it again whenever the derivation changes; the test suite
checks that the recorded file is what the derivation gives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from .paper import DEFAULT_FACTS, write_facts


def main(argv: list[str] | None = None) -> int:
    """Write the facts file; 0 on success, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m srsbayes.audit.record_facts",
                                     description="Record the audit's facts from a paper's text.")
    parser.add_argument("paper", type=Path, help="the paper's UTF-8 text")
    parser.add_argument("--out", type=Path, default=DEFAULT_FACTS,
                        help="facts file to write (default: the bundled paper_facts.toml)")
    args = parser.parse_args(argv)
    try:
        facts = write_facts(args.paper, args.out)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {len(facts.references)} references from {facts.file} "
          f"(sha256 {facts.sha256[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
