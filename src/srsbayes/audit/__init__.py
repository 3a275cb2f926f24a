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
The bundled checks are registered from one explicit list, :data:`BUILTIN_CHECKS`; a
check from outside the package is a function registered with :func:`register_check`, with
no edit of the package.

References
----------
Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
anomalies in the reporting of results in psychology. Soc Psychol Personal Sci 8:363-369.
"""

from .contrast_checks import check_ci_asymmetry, check_p_vs_ci, check_se_approximation
from .findings import SEVERITIES, Finding
from .formatting import format_json, format_text
from .grim import Grim, check_grim, grim, grim_pass_rate
from .paper import (
    DEFAULT_FACTS,
    PaperFacts,
    check_references,
    check_reporting,
    derive_facts,
    parse_references,
    read_facts,
    read_paper,
)
from .pooled import (
    POOLED_NEEDS,
    Claim,
    PooledRow,
    check_claims,
    check_pooled_follow_up,
    check_pooled_mean,
    check_pooled_n,
    check_pooled_weighted,
    read_claims,
    read_pooled,
)
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
from .table_checks import (
    FOLLOW_UP_RATIO,
    HOMOGENEITY_P,
    check_arms,
    check_events,
    check_follow_up,
    check_homogeneity,
    check_identification,
    check_poolable,
)

BUILTIN_CHECKS: tuple[Check, ...] = (
    Check("grim", "GRIM granularity of reported percentages (Brown & Heathers 2017)",
          check_grim, order=10),
    Check("events", "event counts vs n and vs percent", check_events, order=20),
    Check("arms", "both arms present for every study × outcome", check_arms, order=30),
    Check("poolable", "enough studies to pool each outcome?", check_poolable, order=35),
    Check("identification", "can the studies be traced to a source?",
          check_identification, order=40),
    Check("contrast_ci_asymmetry", "contrast CIs symmetric on the analysis scale?",
          check_ci_asymmetry, order=45),
    Check("contrast_p_ci", "reported p-values consistent with their CIs?", check_p_vs_ci, order=46),
    Check("contrast_se_approximation", "contrast SEs that rest on an approximation",
          check_se_approximation, order=47),
    Check("follow_up", "follow-up per outcome", check_follow_up, order=50),
    Check("homogeneity", "do the studies agree more closely than sampling error allows?",
          check_homogeneity, order=60),
    Check("pooled_mean", "reported pooled value vs unweighted mean of the studies",
          check_pooled_mean, needs=POOLED_NEEDS, rows_in="pooled", order=70),
    Check("pooled_weighted", "reported pooled value vs n-weighted pooled estimate",
          check_pooled_weighted, needs=POOLED_NEEDS, rows_in="pooled", order=80),
    Check("pooled_n", "reported pooled n vs sum of study n",
          check_pooled_n, needs=POOLED_NEEDS, rows_in="pooled", order=90),
    Check("pooled_follow_up", "reported pooled follow-up vs study follow-ups",
          check_pooled_follow_up, needs=POOLED_NEEDS, rows_in="pooled", order=100),
    Check("claim", "claims in the text, recomputed",
          check_claims, needs=("table", "specs", "pooled", "claims"), rows_in="claims", order=110),
    Check("reporting", "methods claimed but never reported",
          check_reporting, needs=("paper",), rows_in="paper", order=120),
    Check("references", "does the reference list match the topic?",
          check_references, needs=("paper",), rows_in="paper", order=130),
)
"""The bundled checks, registered by :mod:`srsbayes.audit` in this order (an explicit list,
not a side effect of importing their modules): a new bundled check is a function in the
module of its concern plus one entry here."""

for _check in BUILTIN_CHECKS:
    register_check(_check.id, _check.title, needs=_check.needs, rows_in=_check.rows_in,
                   order=_check.order)(_check.run)

__all__ = [
    "BUILTIN_CHECKS",
    "CHECKS",
    "DEFAULT_FACTS",
    "FOLLOW_UP_RATIO",
    "HOMOGENEITY_P",
    "INPUTS",
    "REGISTRY",
    "SEVERITIES",
    "AuditInputs",
    "Check",
    "Claim",
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
