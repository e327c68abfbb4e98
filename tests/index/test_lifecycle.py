"""Document lifecycle: overrides as data, applied without a restart; stale sources rank last."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from index.lifecycle import (
    LifecycleError,
    apply_overrides,
    fingerprint,
    make_change,
    named_documents,
    prefer_in_force,
    read_overrides,
    resolve_document,
    source_rank,
    write_override,
)
from index.schema import DocumentMeta
from index.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]

ND45 = DocumentMeta(
    doc_id="corpus/nd-45.md", title="Nghị định về khuyến công", doc_type="decree",
    number="45/2012/NĐ-CP", status="amended", amended_by=("235/2025/NĐ-CP",),
)  # fmt: skip
TTLT = DocumentMeta(
    doc_id="corpus/ttlt-26.md", title="Thông tư liên tịch kinh phí", doc_type="circular",
    number="26/2014/TTLT-BTC-BCT", status="in_force",
)  # fmt: skip
GUIDE = DocumentMeta(doc_id="guides/nganh-nghe.md", title="Ngành nghề", doc_type="guide",
                     based_on=("45/2012/NĐ-CP",), status="in_force")  # fmt: skip
DOCS = {d.doc_id: d for d in (ND45, TTLT, GUIDE)}


def test_change_is_validated() -> None:
    with pytest.raises(LifecycleError, match="không hợp lệ"):
        make_change("repealed")
    with pytest.raises(LifecycleError, match="Ngày"):
        make_change("expired", on="31/02/2019")
    change = make_change("superseded", by=[" 28/2018/TT-BTC ", ""], on="12/04/2019")
    assert change.by == ("28/2018/TT-BTC",) and change.on == "2019-04-12" and change.changed_at


def test_overrides_round_trip_atomically(tmp_path: Path) -> None:
    path = tmp_path / "knowledge" / "lifecycle.yaml"
    assert read_overrides(path) == {} and fingerprint(path) is None
    write_override(path, TTLT.doc_id, make_change("superseded", by=["28/2018/TT-BTC"]))
    write_override(path, ND45.doc_id, make_change("in_force", changed_by="cli"))
    stamp = fingerprint(path)
    stored = yaml.safe_load(path.read_text(encoding="utf-8"))["documents"]
    assert stored[TTLT.doc_id]["by"] == ["28/2018/TT-BTC"]
    assert stored[ND45.doc_id]["changed_by"] == "cli"
    write_override(path, ND45.doc_id, None)
    assert set(read_overrides(path)) == {TTLT.doc_id}
    assert fingerprint(path) != stamp
    assert not list(path.parent.glob(".*.tmp"))  # written via a temp file + os.replace
    path.write_text("documents: [oops", encoding="utf-8")
    with pytest.raises(LifecycleError):
        read_overrides(path)


def test_overrides_set_status_and_relations() -> None:
    applied = apply_overrides(
        DOCS,
        {
            TTLT.doc_id: make_change("superseded", by=["28/2018/TT-BTC"], on="2018-05-15"),
            ND45.doc_id: make_change("in_force"),
        },
    )
    ttlt, nd45 = applied[TTLT.doc_id], applied[ND45.doc_id]
    assert (ttlt.status, ttlt.superseded_by, ttlt.expired_on) == (
        "superseded", ("28/2018/TT-BTC",), "2018-05-15",
    )  # fmt: skip
    assert (nd45.status, nd45.amended_by) == ("in_force", ())
    assert applied[GUIDE.doc_id] is GUIDE
    amended = apply_overrides(DOCS, {ND45.doc_id: make_change("amended", by=["99/2026/NĐ-CP"])})
    assert amended[ND45.doc_id].amended_by == ("235/2025/NĐ-CP", "99/2026/NĐ-CP")


def test_resolve_and_named_documents() -> None:
    docs = list(DOCS.values())
    assert resolve_document(docs, "45/2012/ND-CP") == [ND45]  # accents and case ignored
    assert resolve_document(docs, "corpus/ttlt-26.md") == [TTLT]
    assert resolve_document(docs, "ttlt-26") == [TTLT]
    assert resolve_document(docs, "khuyến công") == [ND45]
    assert resolve_document(docs, "") == []
    assert named_documents("Theo Thông tư liên tịch 26/2014 thì…", docs) == [TTLT]
    assert named_documents("nghi dinh 45 co hieu luc tu ngay nao", docs) == [ND45]
    assert named_documents("Hộ kinh doanh có được hỗ trợ không?", docs) == []


def test_prefer_in_force_moves_the_current_rule_ahead_on_the_same_matter() -> None:
    stale = DocumentMeta(doc_id="old", title="Old", status="superseded")
    ranked = [("old-a", 1.0), ("new-a", 0.9), ("old-b", 0.5), ("news", 0.45), ("new-b", 0.1)]
    docs = {"old": stale, "new": TTLT, "news": DocumentMeta(doc_id="n", title="n")}

    def rank_of(item: tuple[str, float]) -> int:
        return source_rank(docs[item[0].split("-")[0]])

    order = prefer_in_force(
        ranked,
        rank_of=rank_of,
        exempt=lambda item: False,
        same_matter=lambda weak, other: other[1] >= 0.6 * weak[1],
    )
    # new-a covers old-a's matter; news covers old-b's; new-b (0.1) is too far below old-b.
    assert [name for name, _ in order] == ["new-a", "old-a", "news", "old-b", "new-b"]
    kept = prefer_in_force(
        ranked, rank_of=rank_of, exempt=lambda item: item[0].startswith("old"),
        same_matter=lambda weak, other: True,
    )  # fmt: skip
    assert kept == ranked


# --- the running engine picks a change up ----------------------------------------------------


@pytest.fixture
def private_settings(tmp_path: Path, kb_settings: Settings) -> Settings:
    """The knowledge base and its built index, copied so a test may write overrides."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("uploads"))
    shutil.copytree(kb_settings.index_dir, tmp_path / "index")
    return Settings(
        data_dir=tmp_path / "data", knowledge_dir=knowledge, INDEX_DIR=tmp_path / "index",
        MODEL_DIR=kb_settings.model_dir,
    )  # fmt: skip


def test_engine_applies_a_status_change_without_restart(
    private_settings: Settings, embedding_model: Any
) -> None:
    from bot.answer_views import render_answer
    from index.engine import load_engine

    engine = load_engine(private_settings, model=embedding_model)
    question = "Nghị định nào quy định đối tượng được hỗ trợ khuyến công?"
    before = engine.answer(question)
    cited = before.citations[0]
    assert cited.status == "in_force" and "hết hiệu lực" not in render_answer(before)
    version = engine.version

    write_override(
        private_settings.lifecycle_path,
        cited.doc_id,
        make_change("superseded", by=["99/2026/QĐ-BCT"], changed_by="test"),
    )
    after = engine.answer(question)
    assert engine.version == version  # no re-index, no reload of the index files
    changed = next(c for c in after.citations if c.doc_id == cited.doc_id)
    assert changed.status == "superseded" and changed.superseded_by == ("99/2026/QĐ-BCT",)
    assert "thay thế bởi 99/2026/QĐ-BCT" in render_answer(after)
    listed = {doc.doc_id: doc for doc in engine.sources()}
    assert listed[cited.doc_id].status == "superseded"

    write_override(private_settings.lifecycle_path, cited.doc_id, None)
    assert engine.answer(question).citations[0].status == "in_force"
