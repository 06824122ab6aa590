"""Load and concurrency: N threads asking at once, and ingest and queries in separate processes.

Generation is serialised (one model context, one generation at a time), models load once per
process, every caller gets an answer or a controlled error; a second writer is told the index is
busy, readers never hang. Latency percentiles and peak memory are printed, never asserted.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path

import pytest
from reliability import (
    PY,
    QUESTIONS,
    _mutate,
    ask_concurrently,
    expected_index,
    fake_env,
    index_problems,
    load_scenario,
    make_corpus,
    peak_rss_mb,
    run_cli,
    snapshot,
)

from rag import Settings, ask, ingest
from rag.disk import is_writing


def test_concurrent_asks_are_served_one_generation_at_a_time(tmp_path: Path) -> None:
    results = load_scenario(tmp_path, ns=(1, 2, 4, 8), rounds=3)
    print("\n N  asks  errors  p50      p95      generations at once  LLM loads  embedder loads")
    for r in results:
        print(
            f"{r.n:2d}  {len(r.latencies):4d}  {len(r.errors):6d}  {r.p50:.3f} s  {r.p95:.3f} s  "
            f"{r.max_active_generations:19d}  {r.llm_loads:9d}  {r.embedder_loads:14d}"
        )
    print(f"peak memory (max RSS of the test process): {peak_rss_mb():.0f} MB")
    for r in results:
        assert r.errors == [] and len(r.latencies) == 3 * r.n
        assert r.max_active_generations == 1, "two generations ran in one model at once"
        assert r.llm_loads == 1 and r.embedder_loads == 1, "a model was loaded more than once"


def test_threads_on_the_fake_backend_all_get_verified_answers(fake_settings: Settings) -> None:
    ingest(settings=fake_settings)
    latencies, errors = ask_concurrently(fake_settings, 8, 2)
    assert errors == [] and len(latencies) == 16
    answers: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        a = ask(QUESTIONS[0], settings=fake_settings)
        with lock:
            answers.append(a.answer)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(answers) == 6 and len(set(answers)) == 1, "concurrent asks must not mix their answers"


@pytest.mark.model
@pytest.mark.slow
def test_two_concurrent_asks_on_the_real_models(real_settings: Settings) -> None:
    latencies, errors = ask_concurrently(real_settings, 2, 1)
    print(f"real models, 2 at once: {', '.join(f'{t:.1f} s' for t in sorted(latencies))}; errors: {errors}")
    assert errors == [] and len(latencies) == 2


def test_ingest_and_queries_in_separate_processes(tmp_path: Path) -> None:
    """One writer holds the lock; a second writer is told the index is busy, readers answer (or are
    told to retry) while it writes, and nothing hangs."""
    settings = Settings(corpus_dir=tmp_path / "corpus", store_dir=tmp_path / "store", embedder="fake", llm="fake")
    make_corpus(settings.corpus_dir, 30, sentences=60)
    assert run_cli(["ingest"], fake_env(settings)).returncode == 0
    _mutate(settings.corpus_dir, random.Random(1), 1, edits=16)
    commands = [
        ["ingest"],
        ["ask", "réforme des retraites"],
        ["ask", "Quel match a remporté l'équipe de France ?"],
        ["ingest"],
    ]
    procs: list[subprocess.Popen[str]] = []
    started: list[float] = []
    for k, args in enumerate(commands):
        started.append(time.monotonic())
        procs.append(subprocess.Popen([PY, "-m", "rag.cli", *args], env=fake_env(settings), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))  # fmt: skip
        if k == 0:  # the others start once the first writer holds the lock
            deadline = time.monotonic() + 60
            while not is_writing(settings) and procs[0].poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
    ended: dict[int, float] = {}
    deadline = time.monotonic() + 240
    while len(ended) < len(procs) and time.monotonic() < deadline:
        ended.update({k: time.monotonic() for k, p in enumerate(procs) if k not in ended and p.poll() is not None})
        time.sleep(0.02)
    assert len(ended) == len(procs), "a process hung"
    outcomes = []
    for k, proc in enumerate(procs):
        out, err = proc.communicate(timeout=10)
        outcomes.append((commands[k][0], proc.returncode, out, err))
        said = (err or out).strip()[-150:]
        print(f"{commands[k][0]}: exit {proc.returncode} after {ended[k] - started[k]:.1f} s: {said}")
        assert "Traceback" not in err, err
    assert outcomes[0][1] == 0
    assert outcomes[3][1] == 1 and "another `rag ingest` is updating the index" in outcomes[3][3]
    for _, code, _, err in outcomes[1:3]:
        assert code == 0 or (code == 1 and "try again" in err), err
    assert index_problems(snapshot(settings), expected_index(settings)) == []
