"""Adding documents: folders walked, duplicates skipped by hash, broken files reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import sidecar_path
from index.settings import Settings
from index.uploads import (
    DuplicateDocumentError,
    collect_files,
    find_duplicate,
    import_paths,
    install_upload,
    safe_file_name,
)

DECISION = (
    "ỦY BAN NHÂN DÂN TỈNH LÀO CAI\nSố: 12/2026/QĐ-UBND\nLào Cai, ngày 15 tháng 3 năm 2026\n"
    "QUYẾT ĐỊNH\nVỀ HỖ TRỢ LÒ SẤY CHÈ\nĐiều 1. Hỗ trợ 37 triệu đồng cho mỗi hợp tác xã.\n"
)
NEWS = "---\ntitle: Tin lò sấy\ndoc_type: news\n---\nTỉnh hỗ trợ lắp lò sấy chè cho hợp tác xã."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    knowledge = tmp_path / "knowledge"
    (knowledge / "guides").mkdir(parents=True)
    (knowledge / "guides" / "co-san.md").write_text(NEWS, encoding="utf-8")
    return Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "tinh").mkdir(parents=True)
    (root / "README.md").write_text("# Bộ tài liệu\nMô tả thư mục.", encoding="utf-8")
    (root / "qd-12.txt").write_text(DECISION, encoding="utf-8")
    (root / "qd-12.raw").write_text("nguồn thô", encoding="utf-8")
    (root / "tinh" / "ban-sao.txt").write_text(DECISION, encoding="utf-8")  # same bytes
    (root / "tinh" / "tin.md").write_text(NEWS, encoding="utf-8")  # already in knowledge/
    (root / "tinh" / "rong.txt").write_text("", encoding="utf-8")
    (root / ".an").mkdir()
    (root / ".an" / "x.txt").write_text(DECISION + "khác", encoding="utf-8")
    return root


def test_collect_walks_folders_and_skips_notes_hidden_and_other_types(folder: Path) -> None:
    files, skipped = collect_files([folder])
    assert [rel.as_posix() for _, rel in files] == [
        "corpus/qd-12.txt", "corpus/tinh/ban-sao.txt", "corpus/tinh/rong.txt",
        "corpus/tinh/tin.md",
    ]  # fmt: skip
    assert [p.name for p in skipped] == ["qd-12.raw"]


def test_import_adds_new_skips_duplicates_and_reports_broken(
    settings: Settings, folder: Path
) -> None:
    items, skipped = import_paths(settings, [folder])
    outcome = {item.source.name: item for item in items}
    assert outcome["qd-12.txt"].outcome == "added"
    assert outcome["qd-12.txt"].doc_id == "imported/corpus/qd-12.txt"
    assert outcome["qd-12.txt"].meta is not None
    assert outcome["qd-12.txt"].meta.number == "12/2026/QĐ-UBND"  # read from the header
    assert outcome["ban-sao.txt"].outcome == "duplicate"  # same bytes earlier in the batch
    assert "imported/corpus/qd-12.txt" in outcome["ban-sao.txt"].reason
    assert outcome["tin.md"].outcome == "duplicate"  # already in the knowledge base
    assert outcome["tin.md"].doc_id == "guides/co-san.md"
    assert outcome["rong.txt"].outcome == "failed"
    assert "không có nội dung" in outcome["rong.txt"].reason
    copied = sorted(p.relative_to(settings.knowledge_dir).as_posix()
                    for p in settings.knowledge_dir.rglob("*") if p.is_file())  # fmt: skip
    assert copied == ["guides/co-san.md", "imported/corpus/qd-12.txt"]
    assert [p.name for p in skipped] == ["qd-12.raw"]

    again, _ = import_paths(settings, [folder])
    assert {item.outcome for item in again} == {"duplicate", "failed"}


def test_dry_run_copies_nothing(settings: Settings, folder: Path) -> None:
    items, _ = import_paths(settings, [folder / "qd-12.txt"], dry_run=True)
    assert items[0].outcome == "added" and items[0].meta is not None
    assert not (settings.knowledge_dir / "imported").exists()


def test_corrections_are_stored_beside_the_copy(settings: Settings, folder: Path) -> None:
    items, _ = import_paths(
        settings, [folder / "qd-12.txt"], values={"title": "Hỗ trợ lò sấy chè", "status": "in_force"}
    )
    (item,) = items
    assert item.meta is not None and item.meta.title == "Hỗ trợ lò sấy chè"
    copy = settings.knowledge_dir / "imported" / "qd-12.txt"
    assert sidecar_path(copy).is_file() and item.meta.number == "12/2026/QĐ-UBND"
    bad, _ = import_paths(settings, [folder / "tinh" / "tin.md"], dest="x",
                          values={"issued": "31/02/2026"})  # fmt: skip
    assert bad[0].outcome == "duplicate"  # the hash check runs first


def test_install_upload_refuses_a_duplicate(settings: Settings, tmp_path: Path) -> None:
    staged = tmp_path / "staging" / "tin.md"
    staged.parent.mkdir()
    staged.write_text(NEWS, encoding="utf-8")
    assert find_duplicate(settings, staged) == "guides/co-san.md"
    with pytest.raises(DuplicateDocumentError) as caught:
        install_upload(settings, staged)
    assert caught.value.doc_id == "guides/co-san.md"
    assert not settings.uploads_dir.exists()


def test_safe_file_name() -> None:
    assert safe_file_name("../../Quyết định số 12.PDF") == "quyet-dinh-so-12.pdf"
    assert safe_file_name("???.docx") == "tai-lieu.docx"
