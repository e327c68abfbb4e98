"""Document lifecycle: status overrides set by admins, and what a status means for answers.

An admin marks a document superseded, amended, expired or in force with `khuyencong status`
or the /status buttons, without editing any file: the change is stored as data in
`<knowledge>/lifecycle.yaml` (one entry per doc_id) and applied on top of the documents'
own metadata wherever documents are read (the engine at load and whenever the file
changes, `khuyencong sources`). The front matter of the documents is never rewritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from index import yaml_text
from index.dates import to_iso_date
from index.errors import KhuyenCongError
from index.schema import NOT_IN_FORCE, DocumentMeta, Passage
from index.textnorm import fold_key, legal_number_tokens, nfc

#: Statuses an admin may set (news is `not_applicable` by its front matter, never set here).
SETTABLE_STATUSES: tuple[str, ...] = ("in_force", "amended", "superseded", "expired", "unknown")
T = TypeVar("T")


class LifecycleError(KhuyenCongError):
    """A status change cannot be applied (unknown status, unreadable overrides file)."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One admin decision about a document's status."""

    status: str
    #: The amending (for `amended`) or replacing (for `superseded`) documents.
    by: tuple[str, ...] = ()
    #: ISO date the document stopped applying (superseded, expired).
    on: str | None = None
    changed_at: str = ""
    changed_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (empty values left out)."""
        data: dict[str, Any] = {"status": self.status}
        if self.by:
            data["by"] = list(self.by)
        if self.on:
            data["on"] = self.on
        if self.changed_at:
            data["changed_at"] = self.changed_at
        if self.changed_by:
            data["changed_by"] = self.changed_by
        return data


def make_change(
    status: str, *, by: Iterable[str] = (), on: str | None = None, changed_by: str = ""
) -> StatusChange:
    """Validates an admin's status change.

    Args:
        status: One of `SETTABLE_STATUSES`.
        by: Document numbers that amend or replace it.
        on: The date it stopped applying (any form `index.dates` reads).
        changed_by: Who made the change ("cli", "telegram:123").

    Returns:
        The change, dated now.

    Raises:
        LifecycleError: Unknown status or unreadable date.
    """
    if status not in SETTABLE_STATUSES:
        raise LifecycleError(
            f"Trạng thái «{status}» không hợp lệ; chọn một trong: {', '.join(SETTABLE_STATUSES)}."
        )
    iso = to_iso_date(on) if on else None
    if on and iso is None:
        raise LifecycleError(f"Ngày «{on}» không hợp lệ (dùng dd/mm/yyyy).")
    numbers = tuple(nfc(n).strip() for n in by if n and n.strip())
    return StatusChange(
        status=status,
        by=numbers,
        on=iso,
        changed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        changed_by=changed_by,
    )


def read_overrides(path: Path) -> dict[str, StatusChange]:
    """Reads the overrides file; a missing file means no overrides.

    Raises:
        LifecycleError: The file exists but is not valid YAML of the expected shape.
    """
    try:
        raw = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LifecycleError(f"Không đọc được {path}: {exc}") from exc
    if raw is None:
        return {}
    entries = raw.get("documents", {}) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise LifecycleError(f"{path}: cần một bảng `documents: {{doc_id: {{status: …}}}}`.")
    overrides: dict[str, StatusChange] = {}
    for doc_id, entry in entries.items():
        if not isinstance(entry, dict) or entry.get("status") not in SETTABLE_STATUSES:
            raise LifecycleError(f"{path}: mục {doc_id!r} thiếu `status` hợp lệ.")
        by = entry.get("by") or ()
        overrides[str(doc_id)] = StatusChange(
            status=str(entry["status"]),
            by=(by,) if isinstance(by, str) else tuple(str(b) for b in by),
            on=to_iso_date(entry.get("on")),
            changed_at=str(entry.get("changed_at", "")),
            changed_by=str(entry.get("changed_by", "")),
        )
    return overrides


def write_override(path: Path, doc_id: str, change: StatusChange | None) -> None:
    """Stores (or with None removes) one document's override, atomically.

    The file is written to a temporary name and moved into place with `os.replace`, so a
    running engine reading it sees the old or the new content, never half of it.
    """
    overrides = read_overrides(path)
    if change is None:
        overrides.pop(doc_id, None)
    else:
        overrides[doc_id] = change
    payload = {
        "# note": "Trạng thái hiệu lực do quản trị viên đặt (khuyencong status, /status).",
        "documents": {key: overrides[key].to_dict() for key in sorted(overrides)},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(yaml.safe_dump(payload, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def fingerprint(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of the overrides file, to notice a change cheaply; None if absent."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def apply_change(doc: DocumentMeta, change: StatusChange) -> DocumentMeta:
    """The document's metadata with an admin's status change applied."""
    if change.status == "superseded":
        return dataclasses.replace(
            doc, status="superseded", superseded_by=change.by or doc.superseded_by,
            expired_on=change.on or doc.expired_on,
        )  # fmt: skip
    if change.status == "expired":
        return dataclasses.replace(
            doc, status="expired", superseded_by=(), expired_on=change.on or doc.expired_on
        )
    if change.status == "amended":
        amended = tuple(dict.fromkeys([*doc.amended_by, *change.by]))
        return dataclasses.replace(doc, status="amended", amended_by=amended)
    if change.status == "in_force":
        return dataclasses.replace(
            doc, status="in_force", amended_by=(), superseded_by=(), expired_on=None
        )
    return dataclasses.replace(doc, status=change.status)


def apply_overrides(
    docs: Mapping[str, DocumentMeta], overrides: Mapping[str, StatusChange]
) -> dict[str, DocumentMeta]:
    """Every document with its admin override applied (documents without one unchanged)."""
    return {
        doc_id: apply_change(doc, overrides[doc_id]) if doc_id in overrides else doc
        for doc_id, doc in docs.items()
    }


def load_applied(docs: Mapping[str, DocumentMeta], path: Path) -> dict[str, DocumentMeta]:
    """`apply_overrides` with the overrides read from `path`; a broken file changes nothing.

    A damaged overrides file must not take the answers down: it is ignored (the error is
    raised again by the admin commands that write it).
    """
    try:
        overrides = read_overrides(path)
    except LifecycleError:
        return dict(docs)
    return apply_overrides(docs, overrides)


def _number_key(value: str) -> str:
    return fold_key(value).replace(" ", "")


def number_key(value: str | None) -> str:
    """A comparison key of a document number: "26/2014/TTLT-BTC-BCT" = "26/2014/TTLT/BTC-BCT"."""
    return re.sub(r"[^0-9a-z]", "", fold_key(value or ""))


def with_basis(chosen: Sequence[Passage], retrieved: Sequence[Passage]) -> list[Passage]:
    """The passages to cite, in order: the law behind each of our guides just ahead of it.

    A guide (`doc_type: guide`) retells the laws named in its `based_on`. When a passage of
    such a law was retrieved for the question, that law is the source the guide stands
    for, so its best retrieved passage is cited just before the guide (the guide follows as
    a reading aid). Other passages keep their order; none is cited twice.

    Args:
        chosen: The passages the answer's units come from, in answer order.
        retrieved: All retrieved passages, best first.

    Returns:
        Passages in citing order.
    """
    cited: list[Passage] = []
    seen: set[int] = set()

    def cite(passage: Passage) -> None:
        if passage.chunk.chunk_id not in seen:
            seen.add(passage.chunk.chunk_id)
            cited.append(passage)

    for passage in chosen:
        doc = passage.doc
        if doc.doc_type == "guide" and doc.based_on:
            bases = {number_key(n) for n in doc.based_on}
            law = next(
                (p for p in retrieved
                 if p.doc.doc_type != "guide" and p.doc.number and number_key(p.doc.number) in bases),
                None,
            )  # fmt: skip
            if law is not None:
                cite(law)
        cite(passage)
    return cited


def resolve_document(docs: Iterable[DocumentMeta], query: str) -> list[DocumentMeta]:
    """Finds the documents an admin means: a doc_id, a number, a file name or a unique part.

    Args:
        docs: The indexed documents.
        query: "corpus/qd-29-2014-qd-ubnd-dong-thap.md", "29/2014/QĐ-UBND", "qd-29-2014…".

    Returns:
        Exact matches when there are any, else every document whose doc_id, number or title
        contains the query (accents and case ignored).
    """
    wanted = _number_key(query.strip().removeprefix("knowledge/"))
    if not wanted:
        return []
    docs = list(docs)
    exact = [
        d
        for d in docs
        if wanted
        in {_number_key(d.doc_id), _number_key(d.number or "-"), _number_key(Path(d.doc_id).stem)}
    ]
    if exact:
        return exact
    return [
        d
        for d in docs
        if wanted in _number_key(" ".join(filter(None, (d.doc_id, d.number, d.title))))
    ]


def named_documents(text: str, docs: Iterable[DocumentMeta]) -> list[DocumentMeta]:
    """The documents a text names by number ("Nghị định 45", "TTLT 26/2014", "45/2012/NĐ-CP").

    Our own guides are never matched: they have no number of their own.

    Args:
        text: A question or a legal-basis line.
        docs: The indexed documents.

    Returns:
        Matching documents in the order given.
    """
    tokens = set(legal_number_tokens(text))
    if not tokens:
        return []
    found: list[DocumentMeta] = []
    for doc in docs:
        if not doc.number or doc.doc_type == "guide":
            continue
        own = set(legal_number_tokens(doc.number))
        # "nd45_2012" names the year too; a bare "nd45" still names the document.
        if own & tokens:
            found.append(doc)
    return found


def source_rank(doc: DocumentMeta) -> int:
    """0 for a document that still applies (or a news item, our guides), 1 for one that
    no longer does (superseded, expired).

    Preferring the law over our own guides was measured too and rejected: it lifted the
    legal dev set (hit@1 0.52 -> 0.67) but sank the dev questions on the same index (hit@1
    0.80 -> 0.56), whose answers are in the guides; see the README.
    """
    return 1 if doc.status in NOT_IN_FORCE else 0


def same_jurisdiction(left: DocumentMeta, right: DocumentMeta) -> bool:
    """Whether one document can stand in for the other: both national, or the same province.

    A Phú Thọ regulation in force says nothing about Đồng Tháp's superseded one.
    """
    def area(doc: DocumentMeta) -> str:
        province = (doc.province or "national").strip()
        return "national" if province.casefold() == "national" else fold_key(province)

    return area(left) == area(right)


def prefer_in_force(
    ranked: Sequence[T],
    *,
    rank_of: Callable[[T], int],
    same_matter: Callable[[T, T], bool],
    exempt: Callable[[T], bool] | None = None,
) -> list[T]:
    """Moves a stronger source on the same matter ahead of a weaker one (see `source_rank`).

    For each passage, best first, the best later passage that covers the same matter and
    comes from a stronger source (a text in force before a superseded one) is moved just
    ahead of it. A passage that is `exempt` (the question names its document) keeps its
    place. Nothing is dropped.

    Args:
        ranked: Passages (or ids), best first.
        rank_of: The source rank of a passage's document.
        exempt: True when a passage must keep its place (none when not given).
        same_matter: Whether two passages cover the same matter.

    Returns:
        The reordered list.
    """
    order = list(ranked)
    position = 0
    while position < len(order):
        weaker = order[position]
        rank = rank_of(weaker)
        if rank > 0 and not (exempt is not None and exempt(weaker)):
            for later in range(position + 1, len(order)):
                candidate = order[later]
                if rank_of(candidate) < rank and same_matter(weaker, candidate):
                    order.insert(position, order.pop(later))
                    break
        position += 1
    return order
