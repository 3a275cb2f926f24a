"""Deprecated location: the audit's public names, re-exported from :mod:`srsbayes.audit`.

The audit is now a package of one module per concern (see :mod:`srsbayes.audit`); import
from ``srsbayes.audit`` instead.
"""

from . import (
    CHECKS,
    SEVERITIES,
    Finding,
    PooledRow,
    format_json,
    format_text,
    grim,
    grim_pass_rate,
    parse_references,
    read_claims,
    read_pooled,
    run_audit,
)

__all__ = ["CHECKS", "SEVERITIES", "Finding", "PooledRow", "format_json", "format_text",
           "grim", "grim_pass_rate", "parse_references", "read_claims", "read_pooled",
           "run_audit"]
