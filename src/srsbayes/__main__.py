"""``python -m srsbayes`` (exits without the slow interpreter teardown: ``cli.main.run``)."""

from .cli.main import run

run()
