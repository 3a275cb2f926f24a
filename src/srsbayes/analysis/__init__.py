"""The analysis pipeline, held once: validated inputs (:mod:`.data`: one
:class:`~srsbayes.analysis.data.OutcomeData` per outcome, built once and passed down), each
outcome's fit, bias-adjusted fit and sensitivity sweep (:mod:`.outcome`), the evidence the
certainty rating reads (:mod:`.evidence`), the comparison with the source paper
(:mod:`.paper`), provenance (:mod:`.provenance`) and the run across outcomes (:mod:`.run`).

Its results are typed (:mod:`.results`); :mod:`srsbayes.report` words and draws them,
:mod:`srsbayes.certainty` rates, :mod:`srsbayes.cli` parses and calls.
"""
