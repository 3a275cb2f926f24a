"""Inputs: the study table (CSV) and outcome specs (TOML), validated before anything runs.

Whatever a file holds, loading it gives a valid :class:`~srsbayes.inputs.data.StudyTable`
or :class:`~srsbayes.inputs.specs.OutcomeSpec`, or one
:class:`~srsbayes.errors.InputError` naming file, line and column; never another exception.
"""
