"""Sorts the failed answers of an evaluation into failure classes, for error analysis.

`python -m scripts.failures DETAILS.jsonl [DETAILS.jsonl …] [--list]` reads the records
written by `scripts.evaluate --details` and prints how many answerable questions fall in each
class (and, with `--list`, which ones). A question passes when its answer key is in the first
paragraph shown and the first citation names the expected document and article. A failure is:

* `refusal`: the answer was refused or not confident;
* `not_retrieved`: no passage of the top five holds an answer key;
* `wrong_article`: the first citation is the right document, another article;
* `guide_first`: one of our guides is cited first where the source is another document;
* `other_law`: another legal text is cited first (a circular for its decree, or back);
* `wrong_doc`: any other document (a news item, another province's decision) is cited first;
* `not_first`: the right source is cited first but the first paragraph lacks the key.

The source is the row's `doc` and `article` when given, else the first passage holding a key.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from index.header_meta import TYPE_NAMES, type_from_number
from index.legal import article_label
from scripts.eval_judging import article_matches, doc_matches

CLASSES = (
    "ok",
    "refusal",
    "not_retrieved",
    "wrong_article",
    "guide_first",
    "other_law",
    "wrong_doc",
    "not_first",
)
#: Document types of legal texts (decrees, circulars, decisions …), as read from headers.
LEGAL_TYPES = frozenset(TYPE_NAMES)


def _answerable(record: dict[str, Any]) -> bool:
    expected = record.get("expected") or {}
    return bool(expected.get("answer_keys")) and not expected.get("abstain")


def _source(record: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(expected doc number or None, doc_id of the key passage or None, expected article)."""
    expected = record["expected"]
    if expected.get("doc"):
        return expected["doc"], None, expected.get("article")
    rank = record.get("rank")
    passages = record.get("passages") or []
    if rank is None or rank > len(passages):
        return None, None, None
    passage = passages[rank - 1]
    return None, passage["doc_id"], article_label(passage.get("path") or ())


def classify(record: dict[str, Any]) -> str:
    """The failure class of one answerable `--details` record ("ok" when it passed)."""
    flags = record.get("flags") or {}
    if not record.get("confident"):
        return "refusal"
    number, doc_id, article = _source(record)
    citations = record.get("citations") or []
    first = citations[0] if citations else {}
    right_doc = (
        doc_matches(number, number=first.get("number"), doc_id=first.get("doc_id", ""))
        if number
        else doc_id is not None and first.get("doc_id") == doc_id
    )
    right_article = not article or article_matches(article, first.get("article"))
    if flags.get("answer_first") and right_doc and right_article:
        return "ok"
    if record.get("rank") is None:
        return "not_retrieved"
    if right_doc:
        return "not_first" if right_article else "wrong_article"
    cited_type = first.get("doc_type")
    if cited_type == "guide":
        return "guide_first"
    source_type = type_from_number(number) if number else record_type(record, doc_id)
    if cited_type in LEGAL_TYPES and source_type in LEGAL_TYPES:
        return "other_law"
    return "wrong_doc"


def record_type(record: dict[str, Any], doc_id: str | None) -> str | None:
    """The document type of a passage of the record, by doc_id."""
    for passage in record.get("passages") or []:
        if passage["doc_id"] == doc_id:
            return passage.get("doc_type")
    return None


def read_records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The answerable records of `--details` files, each tagged with its file's stem."""
    records: list[dict[str, Any]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if _answerable(record):
                    records.append({**record, "set": path.name.split(".")[0]})
    return records


def table(records: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: one row per file, one column per class."""
    counts: dict[str, Counter[str]] = {}
    for record in records:
        counts.setdefault(record["set"], Counter())[classify(record)] += 1
    lines = ["| set | " + " | ".join(CLASSES) + " | n |", "|---" * (len(CLASSES) + 2) + "|"]
    for name, counter in counts.items():
        cells = [str(counter.get(c, 0)) for c in CLASSES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {sum(counter.values())} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Prints the failure table of the given `--details` files."""
    parser = argparse.ArgumentParser(prog="python -m scripts.failures")
    parser.add_argument("details", type=Path, nargs="+", help="files written by --details")
    parser.add_argument("--list", action="store_true", help="also list each failed question")
    args = parser.parse_args(argv)
    records = read_records(args.details)
    sys.stdout.write(table(records) + "\n")
    if args.list:
        for record in records:
            found = classify(record)
            if found != "ok":
                first = (record.get("citations") or [{}])[0].get("line", "—")
                sys.stdout.write(f"{record['set']} {record['id']} {found}: {first}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
