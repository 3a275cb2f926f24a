"""Inference: compiled models, NUTS fitting, the convergence gate, summaries, exact posteriors."""
