"""``python -m harness.bench``: the same as ``python -m harness bench``."""

from harness.bench.cli import main

raise SystemExit(main())
