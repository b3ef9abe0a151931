"""harness: summary-faithfulness evaluation — per-claim NLI and QA consistency scores with evidence."""

__version__ = "0.1.0"

__all__ = ["__version__"]
