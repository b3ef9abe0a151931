"""Entry point so that ``evaluate.load("<path>/harness/evaluation/metric")`` (the folder) works too:
``evaluate`` looks for ``<folder>/<folder name>.py``. The metric itself is in ``faithfulness.py``."""

from .faithfulness import Faithfulness

__all__ = ["Faithfulness"]
