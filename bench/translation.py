"""Does translating English questions into French for the lexical side pay for its cost?

`.venv/bin/python bench/translation.py` (after `make index`): for each answerable English
question of the eval set, the local LLM translates it into French; the gold passage's
rank is measured with BM25 and coverage on the English words (as `rag` does), on the
French translation alone, and on both; dense retrieval always reads the question as
asked. Prints each question, the three ranks, the translation time and the totals.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rag.answer import merge_hits, search_queries
from rag.evaluation import Item, covers, load_jsonl, retrieval_metrics
from rag.llm import load_llm
from rag.retrieval import Hit, Retriever, fuse
from rag.settings import Settings

SYSTEM = "You translate English questions into French. Reply with the French translation only."

settings = Settings.from_env()
retriever = Retriever.open(settings)
llm = load_llm(settings)


def translate(question: str) -> str:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    return "".join(llm.stream(messages, max_tokens=80)).strip()


def search(question: str, lexical_query: str | None, depth: int = 10) -> list[Hit]:
    """`Retriever.search`, with the lexical side reading `lexical_query` when given."""
    count = retriever.store.count()
    candidates = max(settings.candidates, depth)
    vector = retriever.query_vector(question)
    dense = retriever.store.nearest(vector, min(candidates, count))
    sentences = retriever.store.nearest(vector, 5 * candidates, sentences=True)
    index = retriever.lexical(count)
    words = lexical_query or question
    return fuse(
        dense,
        index.search(words, candidates),
        retriever.store,
        sentences=sentences,
        coverage=index.coverage(words),
        other=index.written_in_other_language(words),
        depth=candidates,
        limit=depth,
    )


def rank(item: Item, lexical_query: str | None) -> int:
    queries = search_queries(item.question, item.history or None)
    hits = merge_hits([search(q, lexical_query if q == item.question else None) for q in queries], 10)
    for k, hit in enumerate(hits, 1):
        if covers(hit.chunk.source, hit.chunk.start, hit.chunk.end, item.spans):
            return k
    return 0


def main() -> None:
    items = [i for i in load_jsonl(Path("evals/questions.jsonl")) if i.spans and i.language == "en"]
    ranks: dict[str, list[int]] = {"base": [], "translated": [], "both": []}
    seconds = []
    for item in items:
        started = time.perf_counter()
        french = translate(item.question)
        seconds.append(time.perf_counter() - started)
        row = rank(item, None), rank(item, french), rank(item, f"{item.question} {french}")
        for name, value in zip(ranks, row, strict=True):
            ranks[name].append(value)
        print(f"{row[0]:2d} {row[1]:2d} {row[2]:2d} {seconds[-1]:.1f}s | {item.question} -> {french}", flush=True)
    for name, values in ranks.items():
        print(name, retrieval_metrics(values))
    print("translation s p50", statistics.median(seconds), "max", max(seconds))


if __name__ == "__main__":
    main()
