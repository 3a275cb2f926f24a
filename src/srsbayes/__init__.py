"""srsbayes: Bayesian evidence synthesis for preoperative vs postoperative SRS.

The command line (``python -m srsbayes``) is a thin layer over this API::

    import srsbayes as sb
    specs = sb.load_specs()
    table = sb.read_table(sb.DEFAULT_DATA, specs)
    result = sb.fit_outcome(table, specs["lmd"], settings=sb.FitSettings(seed=1))
    result.summary["prob_benefit"]
"""

from importlib import import_module
from typing import Any

from .errors import InputError
from .inputs.data import DEFAULT_DATA, StudyTable, outcome_table, read_table
from .inputs.specs import OutcomeSpec, get_spec, load_specs
from .priors.distributions import Prior, parse_prior

__version__ = "0.1.0"

_LAZY = {"fit_outcome": "inference.fitting", "FitResult": "inference.fitting",
         "FitSettings": "inference.fitting", "run_audit": "audit",
         "run_sweep": "sensitivity.sweep", "write_report": "report.build"}


def __getattr__(name: str) -> Any:
    # PyMC takes seconds to import; load model code only when it is asked for.
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = ["DEFAULT_DATA", "InputError", "OutcomeSpec", "Prior", "StudyTable", "get_spec",
           "load_specs", "outcome_table", "parse_prior", "read_table", *_LAZY]
