"""Evidence audit: is the reported evidence internally consistent and fit to pool?

``python -m srsbayes audit`` (or :func:`run_audit` from a notebook) runs every check in
:data:`REGISTRY` (ids and titles in :data:`CHECKS`), one function each:

``grim`` (:mod:`.grim`)
    Every reported percentage against the whole counts its ``n`` allows (the GRIM test
    of Brown & Heathers 2017, applied to proportions).
``events``, ``arms``, ``poolable``, ``identification``, ``follow_up``, ``homogeneity``
(:mod:`.table_checks`)
    Counts within ``0..n`` and consistent with the percentage; both arms for every
    study × outcome; at least two studies per outcome; studies named only "Study A";
    missing, borrowed or widely spread follow-up; studies that agree more closely than
    sampling error allows.
``pooled_mean``, ``pooled_weighted``, ``pooled_n``, ``pooled_follow_up``, ``claim``
(:mod:`.pooled`)
    The paper's "Pooled" rows against the study rows; its claims recomputed.
``reporting``, ``references`` (:mod:`.paper`)
    Methods the paper says it used but never reports, and whether the reference list is
    about the paper's topic, from facts recorded from the paper's text
    (``bundled/data/paper_facts.toml``) or re-derived from it (``--paper``).

Findings are data, not errors: the audit exits 0 whenever it ran. Bad input (an
unreadable pooled, claims or paper file) is an :class:`~srsbayes.errors.InputError`.
A new check is a function registered with :func:`register_check`; no edit of the
package is needed.

References
----------
Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci 8:363-369.
"""

from . import contrast_checks  # noqa: F401  (registers the contrast-row checks)
from .findings import SEVERITIES, Finding
from .formatting import format_json, format_text
from .grim import Grim, grim, grim_pass_rate
from .paper import DEFAULT_FACTS, PaperFacts, derive_facts, parse_references, read_facts, read_paper
from .pooled import PooledRow, read_claims, read_pooled
from .registry import (
    CHECKS,
    INPUTS,
    REGISTRY,
    AuditInputs,
    Check,
    register_check,
    unregister_check,
)
from .run import run_audit
from .table_checks import FOLLOW_UP_RATIO, HOMOGENEITY_P

__all__ = [
    "CHECKS",
    "DEFAULT_FACTS",
    "FOLLOW_UP_RATIO",
    "HOMOGENEITY_P",
    "INPUTS",
    "REGISTRY",
    "SEVERITIES",
    "AuditInputs",
    "Check",
    "Finding",
    "Grim",
    "PaperFacts",
    "PooledRow",
    "derive_facts",
    "format_json",
    "format_text",
    "grim",
    "grim_pass_rate",
    "parse_references",
    "read_claims",
    "read_facts",
    "read_paper",
    "read_pooled",
    "register_check",
    "run_audit",
    "unregister_check",
]
