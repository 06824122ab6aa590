"""llama.cpp's evaluated system text, kept in memory and on disk, so it is not evaluated again.

Every prompt starts with a system text (about 100 tokens, about 1 s of prompt
processing on 2 cores). It is evaluated on its own once, and llama.cpp's state after
it (KV cache and the tokens it holds) is kept as a `Head`. Before each prompt the
engine restores the head of that prompt's system text and llama.cpp evaluates the
rest after it. So every prompt is evaluated the same way, whatever came before: the
same question gets the same answer first in a process, after another question, or
after a second try with another system text (llama.cpp's sums depend on how a prompt
is split, and reusing more of the previous prompt splits it elsewhere).

Across processes (`rag ask`, each `rag chat` start) the head of the first prompt is
written next to the model, under a name that hashes everything it depends on (model
file, llama.cpp version, context size, the system text), and a new process loads it.

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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Head:
    """An evaluated head of a prompt: its token ids and llama.cpp's state after them."""

    ids: Any  # numpy int array
    state: bytes


def snapshot(llama: Any) -> Head | None:
    """The context's current tokens and state (None if llama.cpp cannot give them)."""
    import llama_cpp
    import numpy as np

    try:
        size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = int(llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size))
    except (ValueError, AttributeError):
        return None
    return Head(np.array(llama.input_ids[: llama.n_tokens], dtype=np.intc), bytes(buffer)[:written])


def restore(llama: Any, head: Head) -> int:
    """Put `head` back as the whole context (whatever it held); the number of tokens restored (0 if none)."""
    import llama_cpp

    if len(head.ids) > llama.n_ctx():
        return 0
    try:
        buffer = (ctypes.c_uint8 * len(head.state)).from_buffer_copy(head.state)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(head.state)) != len(head.state):
            return 0
    except (ValueError, AttributeError):
        return 0
    llama.input_ids[: len(head.ids)] = head.ids
    llama.n_tokens = len(head.ids)
    llama._requires_eval = True  # the logits are not restored: decode before sampling
    return len(head.ids)


def load(llama: Any, path: Path) -> Head | None:
    """Restore a saved context into a fresh `Llama`; the head restored (None if none)."""
    import numpy as np

    if getattr(llama, "n_tokens", None) != 0 or not path.is_file():
        return None
    try:
        with np.load(path) as saved:
            head = Head(saved["input_ids"].astype(np.intc), saved["state"].tobytes())
    except (OSError, ValueError, KeyError):
        return None
    return head if restore(llama, head) else None


def save(head: Head, path: Path) -> bool:
    """Write `head` atomically, replacing the states of earlier heads of this model."""
    import numpy as np

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, input_ids=head.ids.astype(np.int32), state=np.frombuffer(head.state, dtype=np.uint8))
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        for old in path.parent.glob(f"{path.name.split(SUFFIX)[0]}{SUFFIX}*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        return False
    return True
