"""Entry point for ``python -m harness.train``."""

import sys

from harness.train.cli import main

sys.exit(main())
