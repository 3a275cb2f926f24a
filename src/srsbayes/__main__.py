"""``python -m srsbayes``."""

from .cli import main

raise SystemExit(main())
