"""SQuAD-format benchmarks (e.g. PIAF): build a corpus from the contexts, score answers.

Each article becomes one document (its paragraphs in order, separated by a blank
line), so a question's gold answer is a char span inside that document; the
articles' titles go to `metadata.json`, as a news corpus's do.

>>> f1("le 19 mai", "19 mai 2025")
0.8
>>> exact_match("L'Élysée.", "elysee")
True
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rag.documents import METADATA_FILE
from rag.errors import ConfigError

_ARTICLES = re.compile(r"\b(?:le|la|les|l|un|une|des|du|de|d|the|a|an)\b")


@dataclass(frozen=True)
class SquadItem:
    id: str
    question: str
    answers: tuple[str, ...]
    source: str
    start: int
    end: int
    context_start: int
    context_end: int


def normalize_answer(text: str) -> str:
    """SQuAD normalisation adapted to French: accents, elisions, articles, punctuation."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w\s]", " ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


def f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return round(2 * precision * recall / (precision + recall), 4)


def is_squad(path: Path) -> bool:
    return path.suffix == ".json"


def build_corpus(path: Path, corpus_dir: Path) -> list[SquadItem]:
    """Write one `.txt` per article into `corpus_dir` and return the questions with doc spans."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not a SQuAD-format JSON file ({exc})") from None
    corpus_dir.mkdir(parents=True, exist_ok=True)
    items: list[SquadItem] = []
    titles: dict[str, dict[str, str]] = {}
    for number, article in enumerate(data):
        source = f"{number:03d}_{re.sub(r'[^A-Za-z0-9]+', '_', article.get('title', 'article'))[:40]}.txt"
        titles[source] = {"title": re.sub(r"<[^>]+>", "", str(article.get("title", ""))).strip()}
        text, offsets = "", []
        for paragraph in article["paragraphs"]:
            if text:
                text += "\n\n"
            offsets.append(len(text))
            text += paragraph["context"]
        _write_if_changed(corpus_dir / source, text)
        for offset, paragraph in zip(offsets, article["paragraphs"], strict=True):
            for qa in paragraph["qas"]:
                if not qa.get("answers"):
                    continue
                first = qa["answers"][0]
                start = offset + int(first["answer_start"])
                items.append(
                    SquadItem(
                        id=str(qa["id"]),
                        question=qa["question"],
                        answers=tuple(a["text"] for a in qa["answers"]),
                        source=source,
                        start=start,
                        end=start + len(first["text"]),
                        context_start=offset,
                        context_end=offset + len(paragraph["context"]),
                    )
                )
    _write_if_changed(corpus_dir / METADATA_FILE, json.dumps(titles, ensure_ascii=False, indent=1))
    return items


def _write_if_changed(path: Path, text: str) -> None:
    """Write `text` unless the file already holds it (an unchanged file keeps its mtime)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
