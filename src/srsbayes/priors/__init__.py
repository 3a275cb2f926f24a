"""Priors as values: parsing, validation, run-time slots and the named heterogeneity priors."""
