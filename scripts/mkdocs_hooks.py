"""MkDocs hook: pages that live beside the code (model cards, the benchmark log, the checks' notes) are added
to the site as they are at build time, so they are written once, where the code is, and `mkdocs build
--strict` still checks every link to them. No plugin needed (``hooks:`` in mkdocs.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[1]
PAGES = {
    "model-cards/embedded.md": "harness/models/embedded/MODEL_CARD.md",
    "model-cards/embedded-large.md": "harness/models/embedded_large/MODEL_CARD.md",
    "model-cards/embedded-qa.md": "harness/models/embedded_qa/MODEL_CARD.md",
    "model-cards/crosslingual.md": "harness/models/crosslingual/MODEL_CARD.md",
    "model-cards/fusion.md": "harness/models/fusion/MODEL_CARD.md",
    "reference/benchmark.md": "harness/engine/BENCHMARK.md",
    "reference/checks.md": "harness/checks/README.md",
    "reference/seeds.md": "seeds/README.md",
}
"""Site path -> repository file. A missing file fails the build (strict) through the links to it."""


def on_files(files: Files, config: Any) -> Files:
    for uri, path in PAGES.items():
        source = REPO / path
        if source.is_file():
            files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files
