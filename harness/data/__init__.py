"""Data: load (source, rewrite) pairs from files or `datasets`, with a field mapping and content hashes."""

from harness.data.loaders import DataError, iter_pairs, load_pairs, rows_to_pairs

__all__ = ["DataError", "iter_pairs", "load_pairs", "rows_to_pairs"]
