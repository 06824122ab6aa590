"""Does translating English questions into French for the lexical side pay for its cost?

`.venv/bin/python bench/translation.py` (after `make index`): for each answerable English
question of the eval set, the local LLM translates it into French; the gold passage's
rank is measured with BM25 and coverage on the English words (as `rag` does), on the
French translation alone, and on both; dense retrieval always reads the question as
asked. Prints each question, the three ranks, the translation time and the totals.
"""
import statistics
import time
from pathlib import Path
from rag.settings import Settings
from rag.retrieval import Retriever, fuse
from rag.evaluation import load_jsonl, covers, retrieval_metrics
from rag.answer import search_queries, merge_hits
from rag.llm import load_llm

settings = Settings.from_env()
r = Retriever.open(settings)
llm = load_llm(settings)
items = [i for i in load_jsonl(Path("evals/questions.jsonl")) if i.spans and i.language == "en"]
SYSTEM = "You translate English questions into French. Reply with the French translation only."

def translate(q):
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]
    return "".join(llm.stream(msgs, max_tokens=80)).strip()

def search(q, fr, depth=10):
    count = r.store.count(); d = max(settings.candidates, depth)
    v = r.query_vector(q)
    dense = r.store.nearest(v, min(d, count)); sents = r.store.nearest(v, 5 * d, sentences=True)
    idx = r.lexical(count)
    lq = fr if fr else q
    lex = idx.search(lq, d); cov = idx.coverage(lq)
    return fuse(dense, lex, r.store, sentences=sents, coverage=cov, depth=d, limit=depth)

def rank(item, fr):
    qs = search_queries(item.question, item.history or None)
    hits = merge_hits([search(q, fr if q == item.question else None) for q in qs], 10)
    for k, h in enumerate(hits, 1):
        if covers(h.chunk.source, h.chunk.start, h.chunk.end, item.spans): return k
    return 0

base, tr, both, secs = [], [], [], []
for it in items:
    t = time.perf_counter(); fr = translate(it.question); secs.append(time.perf_counter() - t)
    b, t_ = rank(it, None), rank(it, fr)
    c = rank(it, it.question + " " + fr)
    base.append(b); tr.append(t_); both.append(c)
    print(f"{b:2d} {t_:2d} {c:2d} {secs[-1]:.1f}s | {it.question} -> {fr}", flush=True)
print("base", retrieval_metrics(base)); print("translated", retrieval_metrics(tr)); print("both", retrieval_metrics(both))
print("translation s p50", statistics.median(secs), "max", max(secs))
