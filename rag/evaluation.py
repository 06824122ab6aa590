"""The eval runner behind `rag eval`: every question goes through `rag.ask`, exactly what users get.

Two input formats: the project's JSONL (`evals/questions.jsonl`, typed gold
answers, see evals/README.md) and SQuAD JSON (e.g. PIAF), whose contexts become
the corpus of a separate index under `<store>/bench/<name>`.

>>> report = evaluate([Path("evals/questions.jsonl")], limit=5)   # doctest: +SKIP
>>> report["answers"]["accuracy"]                                 # doctest: +SKIP
1.0
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.answer import Answer, answer_passages, ask, merge_hits, search_queries
from rag.checking import Gold, check
from rag.citations import MARKER, Passage
from rag.normalize import language, written_in
from rag.retrieval import Retriever
from rag.settings import PROJECT_DIR, Settings
from rag.squad import SquadItem, build_corpus, exact_match, f1, is_squad

DEFAULT_SET = PROJECT_DIR / "evals" / "questions.jsonl"
BASELINE_MARGIN = 0.05
MODES = ("dense", "bm25", "hybrid")


@dataclass
class Item:
    """One question to run, in either format."""

    id: str
    question: str
    language: str
    type: str
    gold: dict[str, Any] | None
    sources: list[str]
    spans: list[tuple[str, int, int]]
    history: list[dict[str, str]] = field(default_factory=list)
    answers: tuple[str, ...] = ()
    alternatives: dict[str, set[str]] = field(default_factory=dict)  # a source -> other files stating its fact

    @property
    def accepted(self) -> set[str]:
        """The files a right citation may point to: the sources and their alternatives."""
        return set(self.sources).union(*self.alternatives.values())

    @property
    def answerable(self) -> bool:
        return bool(self.gold) and (self.gold or {}).get("kind") != "none"


def load_jsonl(path: Path) -> list[Item]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        spans = [(s["source"], int(s["start"]), int(s["end"])) for s in d.get("spans", [])]
        alternatives: dict[str, set[str]] = {}
        for a in d.get("alternatives", []):
            alternatives.setdefault(a["for"], set()).add(a["source"])
        items.append(
            Item(
                str(d.get("id", number)),
                d["question"],
                d.get("language") or language(d["question"]),
                d.get("type", "other"),
                d.get("gold"),
                list(d.get("sources", [])),
                spans,
                list(d.get("history", [])),
                alternatives=alternatives,
            )
        )
    return items


def from_squad(items: Sequence[SquadItem]) -> list[Item]:
    return [
        Item(
            i.id,
            i.question,
            "fr",
            "squad",
            {"kind": "text", "any": list(i.answers)},
            [i.source],
            [(i.source, i.start, i.end)],
            answers=i.answers,
        )
        for i in items
    ]


def covers(chunk_source: str, start: int, end: int, spans: Iterable[tuple[str, int, int]]) -> bool:
    """A chunk hits when it holds the gold span (or, for a sentence-long span, most of it)."""
    for source, s, e in spans:
        if source != chunk_source:
            continue
        if start <= s and e <= end:
            return True
        overlap = min(e, end) - max(s, start)
        if e - s > 80 and overlap >= (e - s) / 2:
            return True
    return False


def retrieval_rank(retriever: Retriever, item: Item, mode: str, depth: int = 10) -> int:
    """Rank of the first chunk covering a gold span, searched as `ask` searches (a
    follow-up with its conversation); 0 when not in the top `depth`."""
    queries = search_queries(item.question, item.history or None)
    hits = merge_hits([retriever.search(q, k=depth, mode=mode) for q in queries], depth)
    for rank, hit in enumerate(hits, 1):
        if covers(hit.chunk.source, hit.chunk.start, hit.chunk.end, item.spans):
            return rank
    return 0


def retrieval_metrics(ranks: Sequence[int]) -> dict[str, float]:
    n = len(ranks) or 1
    out = {f"recall@{k}": sum(1 for r in ranks if 0 < r <= k) / n for k in (1, 5, 10)}
    out["mrr"] = sum(1 / r for r in ranks if r) / n
    return {k: round(v, 4) for k, v in out.items()}


def score_answer(item: Item, answer: Answer) -> dict[str, Any]:
    """Checker verdict, citation precision/recall and language match for one answer."""
    text = MARKER.sub("", answer.answer)
    said = written_in(text)  # None for "2022", "Istanbul" or "Marco Rubio. Sergei Lavrov."
    record: dict[str, Any] = {"language_ok": said == item.language if said else None}
    if item.answers:
        record["exact_match"] = max(exact_match(text, a) for a in item.answers)
        record["f1"] = max(f1(text, a) for a in item.answers)
    if item.gold:
        verdict = check(text, Gold.from_dict(item.gold), abstained=answer.abstained)
        record["correct"], record["why"] = verdict.correct, verdict.why
    if item.answerable and answer.citations:
        # A citation is right when its file states the fact: a source, or another file
        # the eval lists as stating the same fact (an alternative).
        good = [c for c in answer.citations if c.source in item.accepted]
        record["citation_precision"] = len(good) / len(answer.citations)
        cited = {c.source for c in answer.citations}
        if item.type == "multi":  # each source states one part: it, or an alternative, must be cited
            parts = [{s} | item.alternatives.get(s, set()) for s in item.sources]
            record["citation_recall"] = sum(bool(cited & p) for p in parts) / len(parts)
        else:
            record["citation_recall"] = float(bool(cited & item.accepted))
    elif item.answerable:
        record["citation_recall"] = 0.0
    return record


def run_item(item: Item, settings: Settings, retriever: Retriever, *, oracle: bool) -> dict[str, Any]:
    started = time.perf_counter()
    if oracle:
        answer = answer_passages(item.question, oracle_passages(item, settings), settings=settings)
    else:
        answer = ask(item.question, history=item.history or None, settings=settings)
    elapsed = time.perf_counter() - started
    query = answer.standalone_question or item.question
    record: dict[str, Any] = {
        "id": item.id,
        "question": item.question,
        "standalone_question": query,
        "language": item.language,
        "type": item.type,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "answer_language": answer.language,
        "citations": [c.to_dict() for c in answer.citations],
        "gold": item.gold,
        "sources": item.sources,
        "accepted_sources": sorted(item.accepted),
        "raw_answer": answer.raw_answer,
        "retried": answer.retried,
        "unsupported": answer.unsupported,
        "passages": [[p.source, p.start, p.end, p.text] for p in answer.passages],
        "retrieval_rank": retrieval_rank(retriever, item, "hybrid") if item.spans else None,
        "timings": {**answer.timings, "total_s": elapsed},
    }
    record.update(score_answer(item, answer))
    return record


def oracle_passages(item: Item, settings: Settings) -> list[Passage]:
    """The gold paragraph(s) as the only passages (SQuAD: the whole context)."""
    from rag.documents import read_document

    passages = []
    for n, (source, start, end) in enumerate(item.spans, 1):
        doc = read_document(settings.corpus_dir / source, settings.corpus_dir)
        s = doc.text.rfind("\n\n", 0, start) + 2 if item.answers else start
        e = doc.text.find("\n\n", end) if item.answers else end
        e = len(doc.text) if e < 0 else e
        s = max(s, 0)
        passages.append(Passage(n, source, s, e, doc.text[s:e], doc.title, doc.date, 1.0))
    return passages


def aggregate(records: Sequence[dict[str, Any]], ranks: Sequence[int] | None = None) -> dict[str, Any]:
    def mean(key: str, rows: Iterable[dict[str, Any]]) -> float | None:
        values = [float(r[key]) for r in rows if r.get(key) is not None]
        return round(statistics.fmean(values), 4) if values else None

    answerable = [r for r in records if r.get("gold") and r["gold"].get("kind") != "none"]
    unanswerable = [r for r in records if r.get("gold") and r["gold"].get("kind") == "none"]
    cited = [c for r in answerable for c in r["citations"]]
    totals = sorted(r["timings"]["total_s"] for r in records)
    firsts = sorted(r["timings"]["first_token_s"] for r in records if "first_token_s" in r["timings"])
    return {
        "n": len(records),
        "retrieval": retrieval_metrics(ranks if ranks is not None else [r["retrieval_rank"] or 0 for r in answerable]),
        "answers": {
            "accuracy": mean("correct", answerable),
            "exact_match": mean("exact_match", records),
            "f1": mean("f1", records),
            "citation_precision": round(
                sum(c["source"] in r.get("accepted_sources", r["sources"]) for r in answerable for c in r["citations"])
                / len(cited),
                4,
            )
            if cited
            else None,
            "citation_recall": mean("citation_recall", answerable),
            "abstention_accuracy": mean("abstained", unanswerable),
            "false_abstention_rate": mean("abstained", answerable),
            "language_match": mean("language_ok", records),
        },
        "latency": {
            "p50_s": round(statistics.median(totals), 3) if totals else None,
            "p95_s": round(_percentile(totals, 0.95), 3) if totals else None,
            "first_token_p50_s": round(statistics.median(firsts), 3) if firsts else None,
        },
    }


def _percentile(values: Sequence[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def evaluate(
    files: Sequence[Path] | None = None,
    *,
    settings: Settings | None = None,
    limit: int | None = None,
    retrieval_only: bool = False,
    compare: bool = False,
    oracle: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the eval and return the report (see DESIGN.md for its keys)."""
    settings = settings or Settings.from_env()
    files = list(files or [DEFAULT_SET])
    items: list[Item] = []
    for path in files:
        if is_squad(path):
            settings = _squad_settings(path, settings)
            items += from_squad(build_corpus(path, settings.corpus_dir))
        else:
            items += load_jsonl(path)
    from rag.ingest import ingest

    ingest(settings=settings)
    retriever = Retriever.open(settings)
    report: dict[str, Any] = {"files": [str(p) for p in files], "settings": _settings_dict(settings)}
    spanned = [i for i in items if i.spans]
    if retrieval_only:
        report["n"] = len(spanned)
        report["compare"] = {}
        for mode in MODES if compare else (settings.retrieval,):
            started = time.perf_counter()
            ranks = [retrieval_rank(retriever, i, mode) for i in spanned]
            report["compare"][mode] = {**retrieval_metrics(ranks), "p50_ms": None}
            report["compare"][mode]["seconds"] = round(time.perf_counter() - started, 2)
            report["compare"][mode]["p50_ms"] = round(1000 * (time.perf_counter() - started) / max(1, len(spanned)), 2)
        report["retrieval"] = report["compare"][
            settings.retrieval if settings.retrieval in report["compare"] else MODES[-1]
        ]
        return report
    chosen = items[:limit] if limit else items
    records = []
    for done, item in enumerate(chosen, 1):
        records.append(run_item(item, settings, retriever, oracle=oracle))
        if on_record:
            on_record(records[-1])
        if progress:
            progress(done, len(chosen))
    squad_ranks = [retrieval_rank(retriever, i, "hybrid") for i in spanned] if is_squad(files[0]) else None
    report.update(aggregate(records, squad_ranks))
    report["by_type"] = _breakdown(records, "type")
    report["by_language"] = _breakdown(records, "language")
    report["records"] = records
    return report


def _breakdown(records: Sequence[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(str(r[key]), []).append(r)
    return {
        name: {"n": len(rows), "accuracy": round(statistics.fmean(float(r.get("correct", 0)) for r in rows), 4)}
        for name, rows in sorted(groups.items())
    }


def _squad_settings(path: Path, settings: Settings) -> Settings:
    """A separate index for a SQuAD file: its own folder and, on a Chroma server, its own
    collection, so the articles' index is never touched."""
    root = settings.store_dir / "bench" / path.stem
    name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{settings.collection}-bench-{path.stem}")[:60].strip("-_")
    return settings.with_(corpus_dir=root / "corpus", store_dir=root / "index", collection=name)


def _settings_dict(settings: Settings) -> dict[str, Any]:
    keep = ("embedder", "llm", "top_k", "candidates", "retrieval", "chunk_chars", "chunk_overlap")
    return {k: getattr(settings, k) for k in keep}


def gate(report: dict[str, Any], baseline: dict[str, Any], margin: float = BASELINE_MARGIN) -> list[str]:
    """Regressions of more than `margin` against a saved report (empty when none)."""
    problems = []
    for key in ("accuracy", "citation_precision"):
        now, then = report["answers"].get(key), baseline.get("answers", {}).get(key)
        if then is not None and (now is None or now < then - margin):
            problems.append(f"answers.{key} fell from {then:.3f} to {now if now is None else round(now, 3)}")
    return problems


def main(args: argparse.Namespace, settings: Settings) -> int:
    """`rag eval`: run, write report.json / report.md / report.png, print the summary, gate."""
    from tqdm import tqdm

    from rag.report import summary, write_reports

    args.out.mkdir(parents=True, exist_ok=True)
    live = (args.out / "records.jsonl").open("w", encoding="utf-8")

    def on_record(record: dict[str, Any]) -> None:
        live.write(json.dumps(record, ensure_ascii=False) + "\n")
        live.flush()

    with live, tqdm(desc="eval", unit="q", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = evaluate(
            args.files or None,
            settings=settings,
            limit=args.limit,
            retrieval_only=args.retrieval_only,
            compare=args.compare,
            oracle=args.oracle,
            progress=progress,
            on_record=on_record,
        )
    write_reports(report, args.out)
    print(summary(report))
    print(f"reports written to {args.out}/ (report.json, report.md, report.png)")
    if args.baseline:
        problems = gate(report, json.loads(args.baseline.read_text(encoding="utf-8")))
        for p in problems:
            print(f"REGRESSION: {p}", file=sys.stderr)
        return 1 if problems else 0
    return 0
