"""Adding documents to the knowledge base: validate, de-duplicate, copy with their metadata.

Shared by the Telegram upload flow (`bot/handlers/admin.py`) and `khuyencong add`. A file
enters the knowledge directory only after `load_document` has read it (so a broken, empty
or oversized file, or a zip bomb, never gets in), and only when no file with the same bytes
is there already (a duplicate is reported with the doc_id that holds it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from index import yaml_text
from index.documents import (
    SIDECAR_SUFFIX,
    SOURCE_SUFFIXES,
    iter_source_files,
    load_document,
    sidecar_path,
)
from index.errors import DocumentError
from index.schema import DocumentMeta
from index.settings import Settings
from index.textnorm import fold_words

#: Where Telegram uploads go, under the knowledge directory.
UPLOADS_PREFIX = "uploads/"
#: Where `khuyencong add` copies files by default, under the knowledge directory.
IMPORT_DIR = "imported"
#: Metadata keys an admin may set or correct for an added document.
EDITABLE_FIELDS: tuple[str, ...] = (
    "title", "doc_type", "number", "issuer", "issued", "effective", "province", "status",
)  # fmt: skip
#: File names that describe a folder rather than being a document.
_FOLDER_NOTES = frozenset({"readme.md", "readme.txt"})

Outcome = Literal["added", "duplicate", "failed"]


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes: the same content uploaded twice has the same hash."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_hashes(settings: Settings) -> dict[str, str]:
    """Content hash -> doc_id of every document already in the knowledge directory."""
    root = settings.knowledge_dir
    return {file_hash(path): path.relative_to(root).as_posix() for path in iter_source_files(root)}


def safe_file_name(name: str) -> str:
    """An ASCII file name without path parts, keeping the (lower-case) suffix."""
    path = Path(name.replace("\\", "/")).name
    stem, suffix = Path(path).stem, Path(path).suffix.lower()
    slug = re.sub(r"[^a-z0-9]+", "-", fold_words(stem)).strip("-")[:80]
    return (slug or "tai-lieu") + suffix


def unique_target(directory: Path, name: str) -> Path:
    """`directory/name`, or `name-2`, `name-3`, … when that (or its sidecar) is taken."""
    target = directory / name
    stem, suffix = target.stem, target.suffix
    counter = 2
    while target.exists() or sidecar_path(target).exists():
        target = directory / f"{stem}-{counter}{suffix}"
        counter += 1
    return target


def write_metadata(path: Path, values: Mapping[str, Any]) -> None:
    """Stores metadata for a document: merged into a Markdown file's front matter, or into
    the sidecar `<file>.meta.yaml` of any other format (existing keys are kept unless set).
    """
    clean = {key: value for key, value in values.items() if value not in (None, "")}
    if not clean:
        return
    if path.suffix.lower() == ".md":
        import frontmatter

        try:
            post = frontmatter.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, yaml.YAMLError):
            return  # load_document reports the broken file in the admin's words
        post.metadata.update(clean)
        path.write_text(frontmatter.dumps(post) + "\n", encoding="utf-8")
        return
    sidecar = sidecar_path(path)
    existing: dict[str, Any] = {}
    if sidecar.is_file():
        loaded = yaml_text.safe_load(sidecar.read_text(encoding="utf-8"))
        existing = loaded if isinstance(loaded, dict) else {}
    sidecar.write_text(
        yaml.safe_dump({**existing, **clean}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )


@dataclass(slots=True)
class InstalledUpload:
    """An upload that passed validation and now lives under knowledge/uploads/."""

    meta: DocumentMeta
    files: list[Path] = field(default_factory=list)

    @property
    def doc_id(self) -> str:
        """The doc_id the index will give it."""
        return self.meta.doc_id


class DuplicateDocumentError(DocumentError):
    """The same content is already in the knowledge base."""

    def __init__(self, name: str, doc_id: str) -> None:
        super().__init__(f"{name}: nội dung trùng với tài liệu đã có ({doc_id}).")
        self.doc_id = doc_id


def find_duplicate(settings: Settings, path: Path) -> str | None:
    """The doc_id of a document with exactly this file's bytes, or None."""
    return known_hashes(settings).get(file_hash(path))


def inspect_file(settings: Settings, path: Path) -> DocumentMeta:
    """Reads a file the way the index will (metadata found in it included), copying nothing.

    Raises:
        DocumentError: The file would be refused.
    """
    meta, _ = load_document(path, root=path.parent, limits=settings.document_limits)
    return meta


def install_upload(
    settings: Settings, staged: Path, values: Mapping[str, Any] | None = None
) -> InstalledUpload:
    """Validates a staged upload and moves it (with its metadata) into knowledge/uploads/.

    Args:
        settings: Gives the knowledge directory and the document limits.
        staged: The downloaded file, in a staging directory of its own.
        values: Metadata the admin gave or confirmed (see `EDITABLE_FIELDS`).

    Returns:
        The installed document and the files written.

    Raises:
        DuplicateDocumentError: The same bytes are already in the knowledge base.
        DocumentError: The file is rejected (broken, empty, over a limit).
    """
    duplicate = find_duplicate(settings, staged)
    if duplicate is not None:
        raise DuplicateDocumentError(staged.name, duplicate)
    if values:
        write_metadata(staged, values)
    checked, _ = load_document(staged, root=staged.parent, limits=settings.document_limits)
    uploads = settings.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    target = unique_target(uploads, staged.name)
    files = [target]
    staged_sidecar = sidecar_path(staged)
    if staged_sidecar.is_file():
        shutil.move(staged_sidecar, sidecar_path(target))
        files.append(sidecar_path(target))
    shutil.move(staged, target)
    doc_id = target.resolve().relative_to(settings.knowledge_dir.resolve()).as_posix()
    return InstalledUpload(
        meta=dataclasses.replace(checked, doc_id=doc_id, path=doc_id), files=files
    )


# --- bulk import (khuyencong add) -------------------------------------------------------------


@dataclass(slots=True)
class ImportItem:
    """What `import_paths` did with one file."""

    source: Path
    outcome: Outcome
    reason: str = ""
    doc_id: str = ""
    meta: DocumentMeta | None = None
    files: list[Path] = field(default_factory=list)


def collect_files(paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """Expands files and folders (recursively) into the documents to import.

    Args:
        paths: Files or folders.

    Returns:
        ((file, path relative to its folder argument) for every document in a supported
        format, in a stable order; files skipped because of their type). Hidden files,
        sidecars and folder notes (README.md) are left out silently.
    """
    found: list[tuple[Path, Path]] = []
    skipped: list[Path] = []
    for given in paths:
        if given.is_dir():
            for path in sorted(given.rglob("*")):
                relative = path.relative_to(given)
                if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                    continue
                if path.name.lower().endswith(SIDECAR_SUFFIX) or path.name.lower() in _FOLDER_NOTES:
                    continue
                if path.suffix.lower() in SOURCE_SUFFIXES:
                    found.append((path, Path(given.resolve().name) / relative))
                else:
                    skipped.append(path)
        elif given.suffix.lower() in SOURCE_SUFFIXES or not given.exists():
            found.append((given, Path(given.name)))
        else:
            skipped.append(given)
    return found, skipped


def import_paths(
    settings: Settings,
    paths: Iterable[Path],
    *,
    dest: str = IMPORT_DIR,
    values: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[ImportItem], list[Path]]:
    """Validates and copies documents into `<knowledge>/<dest>/`, skipping duplicates.

    Each file is read with `load_document` first; one that cannot be read is reported
    with the reason and not copied. A file whose bytes are already in the knowledge base
    (or earlier in the same batch) is a duplicate. Folder structure below each folder
    argument is kept. Nothing here re-indexes: the caller builds once for the batch.

    Args:
        settings: Gives the knowledge directory and the document limits.
        paths: Files and folders.
        dest: Sub-directory of the knowledge directory to copy into.
        values: Metadata to set on every added file (see `EDITABLE_FIELDS`).
        dry_run: Read and report only; copy nothing.
        progress: Called as `progress(done, total, file name)`.

    Returns:
        One item per document found, and the files skipped because of their type.
    """
    files, skipped = collect_files(paths)
    known = known_hashes(settings)
    target_root = settings.knowledge_dir / dest
    items: list[ImportItem] = []
    for done, (path, relative) in enumerate(files, start=1):
        if progress is not None:
            progress(done - 1, len(files), path.name)
        items.append(_import_one(settings, path, relative, target_root, known, values, dry_run))
    if progress is not None and files:
        progress(len(files), len(files), "")
    return items, skipped


def _import_one(
    settings: Settings,
    path: Path,
    relative: Path,
    target_root: Path,
    known: dict[str, str],
    values: Mapping[str, Any] | None,
    dry_run: bool,
) -> ImportItem:
    try:
        digest = file_hash(path)
    except OSError as exc:
        return ImportItem(path, "failed", f"không đọc được tệp: {exc.strerror or exc}")
    if digest in known:
        return ImportItem(path, "duplicate", f"trùng nội dung với {known[digest]}", known[digest])
    try:
        meta, _ = load_document(path, root=path.parent, limits=settings.document_limits)
    except DocumentError as exc:
        return ImportItem(path, "failed", str(exc).removeprefix(f"{path.name}: "))
    target = target_root / relative
    doc_id = target.relative_to(settings.knowledge_dir).as_posix()
    if dry_run:
        known[digest] = doc_id
        return ImportItem(path, "added", doc_id=doc_id, meta=meta)
    target.parent.mkdir(parents=True, exist_ok=True)
    target = unique_target(target.parent, target.name)
    shutil.copy2(path, target)
    written = [target]
    source_sidecar = sidecar_path(path)
    if source_sidecar.is_file():
        shutil.copy2(source_sidecar, sidecar_path(target))
        written.append(sidecar_path(target))
    if values:
        write_metadata(target, values)
        if target.suffix.lower() != ".md":
            written.append(sidecar_path(target))
        try:
            meta, _ = load_document(target, root=target.parent, limits=settings.document_limits)
        except DocumentError as exc:  # the admin's values broke it (e.g. a bad date)
            for file in written:
                file.unlink(missing_ok=True)
            return ImportItem(path, "failed", str(exc).removeprefix(f"{target.name}: "))
    doc_id = target.relative_to(settings.knowledge_dir).as_posix()
    known[digest] = doc_id
    meta = dataclasses.replace(meta, doc_id=doc_id, path=doc_id)
    return ImportItem(path, "added", doc_id=doc_id, meta=meta, files=written)


# --- removal ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemovalTarget:
    """A document /remove resolved to."""

    doc_id: str
    title: str


def upload_doc_ids(settings: Settings) -> dict[str, str]:
    """doc_id -> file name of every upload on disk (indexed or not)."""
    uploads = settings.uploads_dir
    if not uploads.is_dir():
        return {}
    return {
        path.relative_to(settings.knowledge_dir).as_posix(): path.name
        for path in sorted(uploads.rglob("*"))
        if path.is_file() and path.suffix.lower() in SOURCE_SUFFIXES
    }


def find_removal(
    settings: Settings, docs: list[DocumentMeta], query: str
) -> tuple[list[RemovalTarget], list[RemovalTarget]]:
    """Finds uploads and built-in documents matching a doc_id or part of a title/number."""
    on_disk = upload_doc_ids(settings)
    by_id = {doc.doc_id: doc for doc in docs}
    wanted = query.strip().removeprefix("knowledge/")
    if wanted in by_id or wanted in on_disk:
        title = by_id[wanted].title if wanted in by_id else on_disk[wanted]
        target = RemovalTarget(wanted, title)
        return ([target], []) if wanted.startswith(UPLOADS_PREFIX) else ([], [target])
    folded = fold_words(wanted)
    uploads: list[RemovalTarget] = []
    builtin: list[RemovalTarget] = []
    for doc in docs:
        haystack = fold_words(" ".join(filter(None, (doc.title, doc.number, doc.doc_id))))
        if folded and folded in haystack:
            target = RemovalTarget(doc.doc_id, doc.title)
            (uploads if doc.doc_id.startswith(UPLOADS_PREFIX) else builtin).append(target)
    for doc_id, name in on_disk.items():
        if doc_id not in by_id and folded and folded in fold_words(doc_id):
            uploads.append(RemovalTarget(doc_id, name))
    return uploads, builtin


def delete_upload(settings: Settings, doc_id: str) -> bool:
    """Deletes an upload and its sidecar; refuses anything outside knowledge/uploads/."""
    uploads = settings.uploads_dir.resolve()
    path = (settings.knowledge_dir / doc_id).resolve()
    if not path.is_relative_to(uploads) or not path.is_file():
        return False
    path.unlink()
    sidecar_path(path).unlink(missing_ok=True)
    return True


def remove_files(paths: Iterable[Path]) -> list[Path]:
    """Deletes files (a rolled-back upload); returns those that could not be removed."""
    failed: list[Path] = []
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            failed.append(path)
    return failed
