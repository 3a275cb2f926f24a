"""``run_audit``: read the inputs, run the registered checks."""

from __future__ import annotations

from pathlib import Path

from ..inputs.data import DEFAULT_CLAIMS, DEFAULT_POOLED, StudyTable
from ..inputs.specs import OutcomeSpec
from .findings import Finding
from .paper import read_facts, read_paper
from .pooled import read_claims, read_pooled
from .registry import AuditInputs, run_checks


def run_audit(table: StudyTable, specs: dict[str, OutcomeSpec],
              pooled_path: str | Path | None = None, *,
              claims_path: str | Path | None = None, paper_path: str | Path | None = None,
              compare_paper: bool = True) -> list[Finding]:
    """Audit a study table and, by default, the paper's reported pooled values and claims.

    Parameters
    ----------
    table
        From :func:`srsbayes.read_table`.
    specs
        From :func:`srsbayes.load_specs`; give each outcome its family.
    pooled_path
        The paper's pooled rows (default: the bundled ``data/reported_pooled.csv``).
    claims_path
        The paper's claims (default: the bundled ``data/reported_claims.csv``).
    paper_path
        The paper's text, from which the ``reporting``, ``references`` and significance
        checks derive their facts (:func:`srsbayes.audit.paper.derive_facts`). Default:
        the facts recorded from the bundled data's paper (``data/paper_facts.toml``).
    compare_paper
        ``False`` runs only the checks of the table itself.

    Returns
    -------
    list of Finding
        In :data:`srsbayes.audit.CHECKS` order. Checks never raise on the data; bad
        pooled/claims/paper files do.

    Raises
    ------
    InputError
        A pooled, claims or paper file that is missing or malformed (file, row, column).

    Notes
    -----
    The GRIM check follows Brown & Heathers (2017): a percentage of ``n`` written with
    ``d`` decimals is possible only if some whole ``k`` gives ``100 k / n`` within
    ``0.5 * 10**-d`` of it. Precision is read from the CSV text as written.

    References
    ----------
    Brown NJL, Heathers JAJ (2017). The GRIM test: a simple technique detects numerous
    anomalies in the reporting of results in psychology. Soc Psychol Personal Sci
    8:363-369.
    """
    if not compare_paper:
        return run_checks(AuditInputs(table, specs, files={"table": table.path}))
    pooled_file, claims_file = pooled_path or DEFAULT_POOLED, claims_path or DEFAULT_CLAIMS
    inputs = AuditInputs(
        table, specs, read_pooled(pooled_file, specs), read_claims(claims_file),
        read_facts() if paper_path is None else read_paper(paper_path),
        files={"table": table.path, "pooled": str(pooled_file), "claims": str(claims_file)})
    return run_checks(inputs)
