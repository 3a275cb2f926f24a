"""The randomised trials under way: assurance, preposterior and value of information.

From today's meta-analytic posterior of an outcome (:func:`srsbayes.fit_outcome`), for a
trial of stated size (a design of ``bundled/data/trials.toml`` or the user's numbers):

* :mod:`.design` reads the trial designs (public numbers only, with their sources);
* :mod:`.simulate` simulates the trial's data from the posterior predictive of a new study;
* :mod:`.assurance` analyses each trial with its success rule (assurance, power);
* :mod:`.preposterior` updates the meta-analysis with each simulated trial by Pareto-smoothed
  importance reweighting (:mod:`.refit` refits where Pareto k̂ > 0.7);
* :mod:`.value` gives the expected value of sample and of perfect information (EVSI, EVPI);
* :mod:`.result` holds the typed result and its JSON; :mod:`.run` puts them together.

Methods and references: ``docs/methods/trial.md``.
"""

from .design import DEFAULT_TRIALS, TrialDesign, arm_sizes, get_design, load_designs

__all__ = ["DEFAULT_TRIALS", "TrialDesign", "arm_sizes", "get_design", "load_designs"]
