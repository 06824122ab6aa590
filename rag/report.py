"""Eval reports a person can read at a glance: a summary table, report.md and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary(report: dict[str, Any]) -> str:
    """A plain-text table of the headline figures."""
    rows = [("questions", report.get("n"))]
    if "compare" in report:
        rows += [(f"{mode} {k}", v) for mode, m in report["compare"].items() for k, v in m.items()]
    else:
        rows += [(f"retrieval.{k}", v) for k, v in report.get("retrieval", {}).items()]
        rows += [(f"answers.{k}", v) for k, v in report.get("answers", {}).items() if v is not None]
        rows += [(f"latency.{k}", v) for k, v in report.get("latency", {}).items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {_fmt(v)}" for k, v in rows)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Eval report",
        "",
        f"Files: {', '.join(report.get('files', []))}  ",
        f"Settings: `{report.get('settings')}`",
        "",
    ]
    lines += ["## Summary", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in (line.split("  ", 1) for line in summary(report).splitlines())]
    for title, key in (("By question type", "by_type"), ("By language", "by_language")):
        if report.get(key):
            lines += ["", f"## {title}", "", "| group | n | accuracy |", "|---|---|---|"]
            lines += [f"| {name} | {g['n']} | {g['accuracy']:.3f} |" for name, g in report[key].items()]
    failures = [r for r in report.get("records", []) if not r.get("correct", True)]
    if "records" in report:
        lines += ["", f"## Failures ({len(failures)})", ""]
        for r in failures:
            cites = ", ".join(f"[{c['n']}] {c['source']}" for c in r["citations"]) or "none"
            lines += [
                f"### {r['id']} ({r['type']}, {r['language']})",
                "",
                f"- question: {r['question']}",
                f"- answer: {r['answer']}",
                f"- why: {r.get('why', '')}",
                f"- citations: {cites}; gold sources: {', '.join(r['sources']) or 'none'}",
                f"- retrieval rank of the gold passage: {r.get('retrieval_rank')}",
                "",
            ]
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    """Accuracy by type and language, and the latency distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, key, title in (
        (axes[0], "by_type", "Accuracy by question type"),
        (axes[1], "by_language", "Accuracy by language"),
    ):
        groups = report.get(key) or {}
        names = list(groups)
        ax.bar(names, [groups[n]["accuracy"] for n in names], color="#4c78a8")
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=45)
        for i, n in enumerate(names):
            ax.text(i, groups[n]["accuracy"] + 0.02, f"n={groups[n]['n']}", ha="center", fontsize=8)
    latencies = [r["timings"]["total_s"] for r in report.get("records", [])]
    if latencies:
        axes[2].hist(latencies, bins=20, color="#f58518")
    axes[2].set_title("Answer latency (s)")
    if "compare" in report:
        modes = list(report["compare"])
        for i, k in enumerate(("recall@1", "recall@5", "mrr")):
            axes[0].bar(
                [j + i * 0.25 for j in range(len(modes))], [report["compare"][m][k] for m in modes], width=0.25, label=k
            )
        axes[0].set_xticks(range(len(modes)), modes)
        axes[0].legend()
        axes[0].set_title("Retrieval by mode")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_reports(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    plot(report, out / "report.png")
