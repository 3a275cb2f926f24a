"""The clinical report: building it from fits and sweeps, wording, HTML and Markdown."""
