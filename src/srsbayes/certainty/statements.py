"""Plain-language statements of an effect and its certainty, in GRADE's standard wording.

Santesso N, Glenton C, Dahm P, et al. (2020). GRADE guidelines 26: informative statements
to communicate the findings of systematic reviews of interventions. J Clin Epidemiol
119:126-135 (Table 2: "reduces", "probably reduces", "may reduce", "the evidence is very
uncertain about the effect of ... on ...", and "results in little to no difference").
"""

from __future__ import annotations

from ..inputs.question import Question, asked

_HEDGE = {"high": "", "moderate": "probably ", "low": "may "}


def plain_language(level: str | None, change: int, label: str,
                   question: Question | None = None) -> str:
    """One sentence for the SoF table.

    Parameters
    ----------
    level
        Certainty level (``None``: not assessable).
    change
        Direction of the effect on the outcome: −1 it falls, +1 it rises, 0 little to no
        difference (a central estimate smaller than the smallest important difference).
    label
        The outcome in running text, e.g. ``"leptomeningeal disease"``.
    question
        The review question: its arms' labels are the intervention and the comparator
        (default: the bundled question's).
    """
    intervention, comparator = asked(question).treatment.label, asked(question).control.label
    subject = intervention[0].upper() + intervention[1:]
    if level is None:
        return f"No statement: the model for {label} did not converge."
    if level == "very low":
        return (f"The evidence is very uncertain about the effect of {intervention} on "
                f"{label} compared with {comparator}.")
    hedge = _HEDGE[level]
    # "may reduce" / "probably reduces" / "reduces": the bare verb after "may" only
    third = not hedge.startswith("may")
    if change == 0:
        verb = "results" if third else "result"
        return (f"{subject} {hedge}{verb} in little to no difference in {label} compared "
                f"with {comparator}.")
    verb = ("reduce" if change < 0 else "increase") + ("s" if third else "")
    return f"{subject} {hedge}{verb} {label} compared with {comparator}."
