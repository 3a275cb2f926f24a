"""``run_audit``: read the inputs, run the registered checks."""

from __future__ import annotations

from pathlib import Path

from ..inputs.data import DEFAULT_CLAIMS, DEFAULT_POOLED, StudyTable, is_bundled_table
from ..inputs.question import Question
from ..inputs.specs import OutcomeSpec
from .findings import Finding
from .paper import read_facts, read_paper
from .pooled import read_claims, read_pooled
from .registry import AuditInputs, run_checks


def run_audit(table: StudyTable, specs: dict[str, OutcomeSpec],
              pooled_path: str | Path | None = None, *,
              claims_path: str | Path | None = None, paper_path: str | Path | None = None,
              compare_paper: bool | None = None,
              question: Question | None = None) -> list[Finding]:
    """Audit a study table and the paper that reported it, when there is one.

    The bundled paper (its pooled rows, claims and recorded facts) describes the bundled
    ``studies.csv`` only: a user's own studies are never judged by it. So, by default
    (``compare_paper=None``), the paper-level checks run on the bundled paper when the table
    is the bundled one, and otherwise only on what is given (``pooled_path``,
    ``claims_path``, ``paper_path``, each on its own).

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
        ``None`` (default): as above. ``True``: the bundled paper's files stand in for
        those not given, whatever the table. ``False``: only the checks of the table itself.
    question
        The review question (:func:`srsbayes.inputs.question.read_question`): its topic
        terms decide which references of ``paper_path`` are on topic, and its ``words`` word
        the finding. Default: the bundled question. The recorded facts of the bundled
        paper were derived with the bundled question's terms.

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
    if compare_paper is False:
        return run_checks(AuditInputs(table, specs, files={"table": table.path},
                                      question=question))
    bundled = compare_paper is True or is_bundled_table(table)
    pooled_file = pooled_path or (DEFAULT_POOLED if bundled else None)
    claims_file = claims_path or (DEFAULT_CLAIMS if bundled else None)
    files = {"table": table.path}
    if pooled_file is not None:
        files["pooled"] = str(pooled_file)
    if claims_file is not None:
        files["claims"] = str(claims_file)
    paper = (read_paper(paper_path, question) if paper_path is not None
             else read_facts() if bundled else None)
    inputs = AuditInputs(
        table, specs, None if pooled_file is None else read_pooled(pooled_file, specs),
        None if claims_file is None else read_claims(claims_file), paper, files=files,
        question=question)
    return run_checks(inputs)
