"""Answer units: the sentences and list items an answer is built from, cut once at build time.

A chunk is split into units that can be shown on their own:

* a sentence of a paragraph (cut by `index.sentences.split_sentences`);
* a list item, kept whole (never cut at ":" or ";") and tied to the line announcing its list
  ("Hồ sơ gồm:"), so an item is never shown without its label nor a label without content;
* the whole list (label plus every item), for questions that ask for the list;
* a table row, with the header row as its label.

Each unit carries its folded content tokens, so nothing is re-tokenised per question, and is
embedded with the passage prefix (`encode_passages`) next to the chunk vectors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.schema import Chunk
from index.sentences import split_sentences
from index.textnorm import content_tokens

#: Bumped when unit cutting changes, so the next build re-cuts and re-embeds every unit.
UNITS_VERSION = 5
#: An item of several sentences is also a unit whole up to this length: the longest item a
#: list may show whole (`index.unit_scorer.LIST_ITEM_MAX_CHARS`).
WHOLE_ITEM_MAX_CHARS = 320
UNITS_NAME = "units.jsonl"
UNIT_VECTORS_NAME = "units.npy"

_HEADING_RE = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|[a-zđ][.)])\s+")
_MARKER_RE = re.compile(r"^\s*(?:(?P<bullet>[-*+•])\s+)?(?:(?P<digit>\d{1,3}[.)])|(?P<letter>[a-zđ][.)]))?")
_TABLE_RE = re.compile(r"^\s*\|")
_EMPHASIS_RE = re.compile(r"(\*\*|__|`)")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class AnswerUnit:
    """One showable piece of a chunk."""

    chunk_id: int
    #: Order of the unit in its chunk (document order).
    position: int
    #: "sentence", "item", "list" or "row".
    kind: str
    #: The text shown: the sentence, the item, or (for a list) its label.
    text: str
    #: The line announcing the list an item or row belongs to ("Hồ sơ gồm:"), or "".
    label: str = ""
    #: Items of a "list" unit, in order.
    items: tuple[str, ...] = ()
    #: Position of the list an item belongs to (items of one list share it), else -1.
    group: int = -1
    #: Folded content tokens of label, text and items (see `textnorm.content_tokens`).
    tokens: tuple[str, ...] = ()
    #: Folded content tokens of the label alone.
    label_tokens: tuple[str, ...] = ()

    @property
    def embed_text(self) -> str:
        """What is embedded: the label gives an item its meaning."""
        body = "; ".join(self.items) if self.items else self.text
        if self.kind == "list":
            return f"{self.text} {body}".strip()
        return f"{self.label} {body}".strip()

    def same_list(self, other: AnswerUnit) -> bool:
        """Tells whether two units were cut from one list of one chunk."""
        return self.chunk_id == other.chunk_id and self.group >= 0 and self.group == other.group

    def repeats(self, other: AnswerUnit) -> bool:
        """Tells whether two units of one list say the same: an item and its own sentence."""
        if not (self.same_list(other) and self.text and other.text):
            return False
        return other.text in self.text or self.text in other.text

    @property
    def display_length(self) -> int:
        """Characters the unit takes when shown whole."""
        return len(self.label) + len(self.text) + sum(len(i) + 3 for i in self.items)


def _clean(line: str) -> str:
    line = _EMPHASIS_RE.sub("", line)
    return _SPACES_RE.sub(" ", line).strip()


def _table_cells(line: str) -> list[str] | None:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if all(set(c) <= set("-: ") for c in cells):
        return None  # the |---|---| separator row
    return [c for c in cells if c]


def _marker(raw: str) -> str:
    """The numbering style of a list line: "digit" (1.), "letter" (a)) or "bullet" (-)."""
    found = _MARKER_RE.match(raw)
    if found is None:
        return "bullet"
    return "digit" if found.group("digit") else "letter" if found.group("letter") else "bullet"


def _sublists(items: list[str], markers: list[str]) -> list[tuple[str, list[str]]]:
    """Splits a list at items that announce their own sub-items ("2. Ngành nghề ưu tiên:").

    Legal texts number clauses "1.", "2." and their points "a)", "b)"; written as one list, a
    clause ending in ":" would be shown alone as an item, and its points without it. Such an
    item becomes the label of the items after it, up to the next item numbered like it.

    Returns:
        (label or "", items) pieces in order; one ("", items) piece for a flat list.
    """
    pieces: list[tuple[str, list[str]]] = [("", [])]
    style = ""
    for number, (item, marker) in enumerate(zip(items, markers, strict=True)):
        follows = number + 1 < len(items)
        announces = item.endswith(":") and follows and markers[number + 1] != marker
        if announces or (style and marker == style):
            style = marker if announces else ""
            pieces.append((item, []) if announces else ("", [item]))
            continue
        pieces[-1][1].append(item)
    return [(label, found) for label, found in pieces if found or label]


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Groups the lines of a chunk into ("para" | "list" | "table", lines) blocks."""
    blocks: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        if not raw.strip():
            if blocks and blocks[-1][0] == "para":
                blocks.append(("gap", []))
            continue
        if _HEADING_RE.match(raw):
            blocks.append(("heading", [_clean(_HEADING_RE.sub(r"\1", raw))]))
        elif _ITEM_RE.match(raw):
            # The numbering style rides along as a prefix, read off by `_split_marker`.
            item = f"{_marker(raw)}\x00{_clean(_ITEM_RE.sub('', raw, count=1))}"
            if blocks and blocks[-1][0] == "list":
                blocks[-1][1].append(item)
            else:
                blocks.append(("list", [item]))
        elif _TABLE_RE.match(raw):
            if blocks and blocks[-1][0] == "table":
                blocks[-1][1].append(raw)
            else:
                blocks.append(("table", [raw]))
        elif raw.startswith((" ", "\t")) and blocks and blocks[-1][0] == "list":
            blocks[-1][1][-1] = f"{blocks[-1][1][-1]} {_clean(raw)}"  # a wrapped item
        elif blocks and blocks[-1][0] == "para":
            blocks[-1][1].append(_clean(raw))
        else:
            blocks.append(("para", [_clean(raw)]))
    return [b for b in blocks if b[0] != "gap"]


def _sentences(text: str) -> list[str]:
    """Sentences of a paragraph; a clause ending in ";" keeps the lower-case clause after it.

    The shared splitter cuts at ";" (Vietnamese lists put one item per ";"), but "…nội dung
    của chương trình; góp phần chuyển dịch…" is one sentence: its second half starts in lower
    case, and shown alone the first half would stop mid-thought.
    """
    merged: list[str] = []
    for sentence in split_sentences(text):
        if merged and merged[-1].endswith(";") and sentence[:1].islower():
            merged[-1] = f"{merged[-1]} {sentence}"
        else:
            merged.append(sentence)
    return merged


def units_for_chunk(chunk: Chunk) -> list[AnswerUnit]:
    """Cuts one chunk into answer units, in document order.

    Args:
        chunk: A chunk of the index.

    Returns:
        Its sentences, list items (with their label), whole lists and table rows.
    """
    units: list[AnswerUnit] = []

    def add(
        kind: str, text: str, *, label: str = "", items: Sequence[str] = (), group: int = -1
    ) -> None:
        tokens = content_tokens(" ".join([label, text, *items]))
        if not tokens:
            return
        units.append(
            AnswerUnit(
                chunk_id=chunk.chunk_id,
                position=len(units),
                kind=kind,
                text=text,
                label=label,
                items=tuple(items),
                group=group,
                tokens=tuple(tokens),
                label_tokens=tuple(content_tokens(label)),
            )
        )

    blocks = _blocks(chunk.text)
    for index, (kind, lines) in enumerate(blocks):
        following = blocks[index + 1][0] if index + 1 < len(blocks) else ""
        if kind == "heading":
            continue
        if kind == "para":
            sentences = _sentences("\n".join(lines))
            if following in ("list", "table") and sentences and sentences[-1].endswith(":"):
                sentences = sentences[:-1]  # the label goes with its list below
            for sentence in sentences:
                add("sentence", sentence)
            continue
        label = ""
        previous = blocks[index - 1] if index else None
        if previous is not None and previous[0] == "para":
            last = split_sentences("\n".join(previous[1]))
            if last and last[-1].endswith(":"):
                label = last[-1]
        elif previous is not None and previous[0] == "heading":
            label = previous[1][0]
        if kind == "table":
            rows = [cells for cells in (_table_cells(line) for line in lines) if cells]
            if not rows:
                continue
            header, body = (" | ".join(rows[0]), rows[1:]) if len(rows) > 1 else ("", rows)
            row_label = f"{label} {header}".strip()
            group = len(units)
            for cells in body:
                add("row", " | ".join(cells), label=row_label, group=group)
            continue
        markers = [line.split("\x00", 1)[0] for line in lines]
        items = [line.split("\x00", 1)[-1] for line in lines]
        for sub_label, sub_items in _sublists(items, markers):
            own = sub_label or label
            group = len(units)
            for item in sub_items:
                parts = _sentences(item)
                if len(parts) > 1:
                    # An item holding several sentences is a paragraph: each sentence
                    # answers on its own (with the label), as in any other paragraph.
                    for part in parts:
                        add("sentence", part, label=own, group=group)
                if len(parts) == 1 or len(item) <= WHOLE_ITEM_MAX_CHARS:
                    # Whole too: a later sentence leaves its subject behind ("Nghị định
                    # 134/2004/NĐ-CP: nghị định trước đây. Tình trạng: đã được thay thế…").
                    add("item", item, label=own, group=group)
            if len(sub_items) > 1:
                add("list", own, items=sub_items, group=group)
    return units


@dataclass(slots=True)
class UnitStore:
    """All units of an index with their vectors (row i of `vectors` is `units[i]`)."""

    units: list[AnswerUnit]
    vectors: np.ndarray
    _by_chunk: dict[int, list[int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for row, unit in enumerate(self.units):
            self._by_chunk.setdefault(unit.chunk_id, []).append(row)

    def __len__(self) -> int:
        return len(self.units)

    @classmethod
    def empty(cls) -> UnitStore:
        """A store without units (an index made by hand, e.g. in a benchmark)."""
        return cls([], np.empty((0, 0), dtype=np.float32))

    def rows_of(self, chunk_id: int) -> list[int]:
        """Rows of the units of one chunk, in document order."""
        return self._by_chunk.get(chunk_id, [])

    def of_chunks(self, chunk_ids: Iterable[int]) -> dict[int, list[int]]:
        """chunk_id -> rows of its units, for the given chunks."""
        return {cid: self.rows_of(cid) for cid in chunk_ids}

    def save(self, directory: Path) -> None:
        """Writes `units.jsonl` and `units.npy` into a version directory."""
        with (directory / UNITS_NAME).open("w", encoding="utf-8") as handle:
            for unit in self.units:
                handle.write(json.dumps(_unit_to_json(unit), ensure_ascii=False) + "\n")
        np.save(directory / UNIT_VECTORS_NAME, np.asarray(self.vectors, dtype=np.float32))

    @classmethod
    def load(cls, directory: Path) -> UnitStore:
        """Reads what `save` wrote.

        Raises:
            OSError, ValueError: Missing or inconsistent files.
        """
        units: list[AnswerUnit] = []
        with (directory / UNITS_NAME).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    units.append(_unit_from_json(json.loads(line)))
        vectors = np.load(directory / UNIT_VECTORS_NAME, allow_pickle=False)
        if vectors.shape[0] != len(units):
            raise ValueError(f"{len(units)} units but {vectors.shape[0]} unit vectors")
        return cls(units, vectors.astype(np.float32, copy=False))

    def rows_for_chunks(self, chunk_ids: Iterable[int]) -> list[int]:
        """Rows of every unit of the given chunks, chunk by chunk."""
        return [row for cid in chunk_ids for row in self.rows_of(cid)]


def _unit_to_json(unit: AnswerUnit) -> dict[str, Any]:
    data: dict[str, Any] = {
        "chunk": unit.chunk_id,
        "pos": unit.position,
        "kind": unit.kind,
        "text": unit.text,
        "tokens": list(unit.tokens),
    }
    if unit.label:
        data["label"] = unit.label
        data["label_tokens"] = list(unit.label_tokens)
    if unit.items:
        data["items"] = list(unit.items)
    if unit.group >= 0:
        data["group"] = unit.group
    return data


def _unit_from_json(data: dict[str, Any]) -> AnswerUnit:
    return AnswerUnit(
        chunk_id=int(data["chunk"]),
        position=int(data["pos"]),
        kind=str(data["kind"]),
        text=str(data["text"]),
        label=str(data.get("label", "")),
        items=tuple(data.get("items", ())),
        group=int(data.get("group", -1)),
        tokens=tuple(data.get("tokens", ())),
        label_tokens=tuple(data.get("label_tokens", ())),
    )


def cut_units(chunks: Iterable[Chunk]) -> list[AnswerUnit]:
    """Units of many chunks, chunk by chunk in the given order."""
    return [unit for chunk in chunks for unit in units_for_chunk(chunk)]
