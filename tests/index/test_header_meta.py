"""Metadata read from a legal document's own header; front matter and sidecars win."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import load_document, sidecar_path
from index.header_meta import (
    document_type,
    read_header,
    sentence_case,
    type_from_number,
    type_matches,
    types_named,
)

DECISION = """ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH ĐỒNG THÁP | Độc lập - Tự do - Hạnh phúc
Số: 29/2014/QĐ-UBND | Đồng Tháp, ngày 02 tháng 12 năm 2014
QUYẾT ĐỊNH
BAN HÀNH QUY CHẾ QUẢN LÝ VÀ SỬ DỤNG KINH PHÍ KHUYẾN CÔNG ĐỊA PHƯƠNG
ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP
Căn cứ Luật tổ chức Hội đồng nhân dân và Ủy ban nhân dân ngày 26 tháng 11 năm 2003;
Điều 1. Ban hành kèm theo Quyết định này Quy chế quản lý kinh phí khuyến công.
Điều 2. Quyết định này có hiệu lực thi hành sau 10 ngày kể từ ngày ký.
"""

DECREE = """CHÍNH PHỦ
Số: 45/2012/NĐ-CP
Hà Nội, ngày 21 tháng 5 năm 2012
NGHỊ ĐỊNH
VỀ KHUYẾN CÔNG
Căn cứ Luật Tổ chức Chính phủ ngày 25 tháng 12 năm 2001;
Điều 18. Hiệu lực thi hành
Nghị định này có hiệu lực thi hành kể từ ngày 05 tháng 7 năm 2012 và thay thế Nghị định số
134/2004/NĐ-CP ngày 09 tháng 6 năm 2004 của Chính phủ.
"""


def test_decision_header() -> None:
    found = read_header(DECISION)
    assert found["number"] == "29/2014/QĐ-UBND"
    assert found["doc_type"] == "decision"
    assert found["issued"] == "2014-12-02"
    assert found["title"] == (
        "Quyết định ban hành quy chế quản lý và sử dụng kinh phí khuyến công địa phương"
    )
    assert found["issuer"] == "Ủy ban nhân dân tỉnh Đồng Tháp"
    # "sau 10 ngày kể từ ngày ký": ten days after the date line.
    assert found["effective"] == "2014-12-12"


def test_decree_header_with_effective_date_and_replaced_decree() -> None:
    found = read_header(DECREE.replace("số\n134", "số 134"))
    assert found["number"] == "45/2012/NĐ-CP"
    assert found["doc_type"] == "decree"
    assert found["title"] == "Nghị định về khuyến công"
    assert found["issuer"] == "Chính phủ"
    assert found["issued"] == "2012-05-21"
    assert found["effective"] == "2012-07-05"
    assert found["replaces"] == ["134/2004/NĐ-CP"]


def test_joint_circular_and_type_from_number() -> None:
    found = read_header("BỘ TÀI CHÍNH\nSố: 26/2014/TTLT-BTC-BCT\nTHÔNG TƯ LIÊN TỊCH\nHƯỚNG DẪN X\n")
    assert found["doc_type"] == "joint_circular"
    assert found["title"].startswith("Thông tư liên tịch hướng dẫn")
    assert type_from_number("1288/QĐ-TTg") == "decision"
    assert type_from_number("46/2012/TT-BCT") == "circular"
    assert type_from_number("16/2011/TTLT-BCT-BNV") == "joint_circular"
    assert type_from_number("04/CT-BCT") == "directive"
    assert type_from_number("123") is None


@pytest.mark.parametrize(
    ("question", "types"),
    [
        ("Theo Nghị định 45 thì ai được hỗ trợ?", {"decree"}),
        ("thong tu lien tich 26/2014 quy dinh muc chi the nao", {"joint_circular"}),
        ("Mức chi tại 46/2012/TT-BCT là bao nhiêu?", {"circular"}),
        ("QĐ-UBND của tỉnh và nghị quyết HĐND khác gì nhau", {"decision", "resolution"}),
        ("NĐ 45 quy định gì", {"decree"}),
        ("Thông tư nói gì về đề án?", {"circular"}),
        # "TT" alone is the Trung tâm; "hướng dẫn" and "kế hoạch" are plain words here.
        ("TT khuyến công hướng dẫn lập kế hoạch thế nào", set()),
        ("Cơ sở ở TT-Huế được hỗ trợ gì", set()),
        ("Hồ sơ đề án gồm những gì?", set()),
    ],
)
def test_types_named(question: str, types: set[str]) -> None:
    assert types_named(question) == types


def test_document_type_prefers_the_number_code() -> None:
    # The corpus files of joint circulars say `doc_type: circular`; their numbers say TTLT.
    assert document_type("circular", "26/2014/TTLT-BTC-BCT") == "joint_circular"
    assert document_type("decision", "1881/QĐ-TTg") == "decision"
    assert document_type("resolution", None) == "resolution"
    assert document_type("guide", None) is None and document_type("news", None) is None
    assert document_type("guidance", "1213/2010/HDLN/STC-SCT") is None
    # A joint circular is also a thông tư; a circular is not a joint circular.
    assert type_matches(frozenset({"circular"}), "joint_circular")
    assert not type_matches(frozenset({"joint_circular"}), "circular")
    assert not type_matches(frozenset({"decree"}), None)


def test_news_and_plain_text_yield_nothing() -> None:
    assert read_header("Ngày 12/3, Sở Công Thương tổ chức hội nghị khuyến công năm 2026.") == {}
    # A "căn cứ" date is not the document's date.
    assert "issued" not in read_header("Căn cứ Luật Ngân sách, ngày 25 tháng 6 năm 2015;")


def test_sentence_case_keeps_place_and_ministry_names() -> None:
    assert sentence_case("HỘI ĐỒNG NHÂN DÂN TỈNH PHÚ THỌ") == "hội đồng nhân dân tỉnh Phú Thọ"
    assert sentence_case("BỘ TRƯỞNG BỘ CÔNG THƯƠNG") == "bộ trưởng Bộ Công Thương"


def test_load_document_uses_the_header_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "qd-29.txt"
    path.write_text(DECISION, encoding="utf-8")
    meta, _ = load_document(path)
    assert (meta.number, meta.doc_type, meta.issued, meta.effective) == (
        "29/2014/QĐ-UBND", "decision", "2014-12-02", "2014-12-12",
    )  # fmt: skip
    assert meta.title.startswith("Quyết định ban hành quy chế")


@pytest.mark.parametrize("suffix", [".md", ".txt"])
def test_front_matter_and_sidecar_win_over_the_header(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"qd{suffix}"
    stated = "title: Quy chế kinh phí Đồng Tháp\nnumber: 29/2014/QĐ-UBND (bản sửa)\n"
    if suffix == ".md":
        path.write_text(f"---\n{stated}---\n{DECISION}", encoding="utf-8")
    else:
        path.write_text(DECISION, encoding="utf-8")
        sidecar_path(path).write_text(stated, encoding="utf-8")
    meta, _ = load_document(path)
    assert meta.title == "Quy chế kinh phí Đồng Tháp"
    assert meta.number == "29/2014/QĐ-UBND (bản sửa)"
    assert meta.issued == "2014-12-02"  # not stated: the header fills it in


def test_news_front_matter_disables_header_reading(tmp_path: Path) -> None:
    path = tmp_path / "tin.md"
    path.write_text(f"---\ntitle: Tin tức\ndoc_type: news\n---\n{DECISION}", encoding="utf-8")
    meta, _ = load_document(path)
    assert meta.number is None and meta.doc_type == "news"
