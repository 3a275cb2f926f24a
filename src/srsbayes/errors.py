"""Errors that every command reports as one line: bad input (exit status 2) and outputs
that could not be written (exit status 5)."""

from __future__ import annotations

from pathlib import Path

EXIT_INPUT = 2
"""Exit status for bad input (files, specs, priors, options)."""
EXIT_UNCONVERGED = 3
"""Exit status when a fit fails its diagnostics gate."""
EXIT_OUTPUT = 5
"""Exit status when the outputs could not be written (disk full, I/O error); nothing of the
run is left behind and earlier outputs are intact."""
EXIT_INTERNAL = 1
"""Exit status of an unexpected error (a bug: please report the traceback)."""
EXIT_TASK = 6
"""Exit status when a task that cannot be left out failed on a worker (e.g. a chunk of a
trial's simulations on a Dask cluster): one line, nothing of the run written."""


class InputError(ValueError):
    """A problem with user input, located as precisely as the input allows.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    file
        The offending file, if any.
    row
        1-based line number in ``file`` (the header is line 1), if known.
    column
        Column, key or option name, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(self.oneline())

    def oneline(self) -> str:
        """Render as ``file:row: column 'c': message`` with absent parts left out."""
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.row}" if self.row is not None else "") + ": "
        elif self.row is not None:
            where = f"row {self.row}: "
        col = f"column '{self.column}': " if self.column is not None else ""
        # Every line separator (\r, \x0b, \u2028, ...), not only \n: one line means one line.
        return " ".join((where + col + self.message).splitlines())


class TaskError(RuntimeError):
    """A task that the result cannot do without failed where it ran (a Dask worker): the
    run stops with one line instead of reporting numbers from part of the work."""

    def oneline(self) -> str:
        """The message on one line."""
        return " ".join(str(self).splitlines())


class OutputError(OSError):
    """The outputs could not be written (the disk is full, an I/O error, ...).

    Nothing of the run is left behind: the staged outputs are removed and the earlier
    outputs are intact (:class:`srsbayes.outputs.OutputUnit`).
    """

    def oneline(self) -> str:
        """The message on one line."""
        return " ".join(str(self).splitlines())
