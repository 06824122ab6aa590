"""llama.cpp's evaluated system text kept on disk, so a new process does not evaluate it again.

Every prompt starts with the same system text (about 100 tokens, about 1 s of prompt
processing on 2 cores). Within a process llama.cpp reuses it from its KV cache; across
processes (`rag ask`, each `rag chat` start) this module does: the first time, the
system text is evaluated on its own and the context's state (KV cache and the tokens
it holds) is written next to the model, under a name that hashes everything it
depends on (model file, llama.cpp version, context size, the system text). A new
process loads it before its first prompt; llama.cpp then keeps the common prefix and
evaluates only the rest, exactly as after a first evaluation in the same process.

The file is an optimisation only: any failure to read or write it is ignored.

>>> state_file(Path("models/m.gguf"), "ctx4096", [{"role": "system", "content": "..."}]).name  # doctest: +ELLIPSIS
'm.gguf.kv-...'
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUFFIX = ".kv-"
FORMAT = 2  # what a saved state holds: the system text alone, evaluated on its own


def state_file(model: Path, engine: str, head: Sequence[dict[str, str]]) -> Path:
    """Where the state for this model, engine configuration and fixed head of the prompt lives."""
    try:
        stat = model.stat()
        identity = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        identity = "?"
    digest = hashlib.sha256(json.dumps([FORMAT, identity, engine, list(head)], ensure_ascii=False).encode()).hexdigest()
    return model.with_name(f"{model.name}{SUFFIX}{digest[:16]}.npz")


def load(llama: Any, path: Path) -> int:
    """Restore a saved context into a fresh `Llama`; the number of tokens restored (0 if none)."""
    import llama_cpp
    import numpy as np

    if getattr(llama, "n_tokens", None) != 0 or not path.is_file():
        return 0
    try:
        with np.load(path) as saved:
            ids = saved["input_ids"].astype(np.intc)
            blob = saved["state"].tobytes()
        if len(ids) > llama.n_ctx():
            return 0
        buffer = (ctypes.c_uint8 * len(blob)).from_buffer_copy(blob)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(blob)) != len(blob):
            return 0
    except (OSError, ValueError, KeyError, AttributeError):
        return 0
    llama.input_ids[: len(ids)] = ids
    llama.n_tokens = len(ids)
    llama._requires_eval = True  # the logits are not restored: decode before sampling
    return len(ids)


def save(llama: Any, path: Path) -> bool:
    """Write the context's state atomically, replacing the states of earlier heads of this model."""
    import llama_cpp
    import numpy as np

    try:
        size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = int(llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size))
        ids = np.array(llama.input_ids[: llama.n_tokens], dtype=np.int32)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, input_ids=ids, state=np.frombuffer(bytes(buffer)[:written], dtype=np.uint8))
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        for old in path.parent.glob(f"{path.name.split(SUFFIX)[0]}{SUFFIX}*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, ValueError, AttributeError):
        return False
    return True
