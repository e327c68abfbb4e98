"""Checks the knowledge base: front matter, seed fidelity, no invented numbers, criteria.yaml."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

import frontmatter
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO_ROOT / "knowledge"
SHARED = REPO_ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
FACTS = SHARED / "domain-facts.md"

DOC_TYPES = {"decree", "circular", "decision", "programme", "news", "guide"}
STATUSES = {"in_force", "superseded", "not_applicable"}
TRI_STATE = {True, False, "verify"}

# Site chrome deliberately dropped from the seed pages (header, banners, poll, visitor counter).
CHROME = [
    re.compile(p)
    for p in (
        r"^SỞ CÔNG THƯƠNG HẢI DƯƠNG HỘI NHẬP VÀ PHÁT TRIỂN$",
        r"Banner",
        r"không có bình chọn nào đang hoạt động",
        r"lượt truy cập",
        r"^Thống kê truy cập",
    )
]
MIN_SEED_LINE = 40

MD_FILES = sorted(
    p for p in KNOWLEDGE.rglob("*.md") if "uploads" not in p.relative_to(KNOWLEDGE).parts
)
ARTICLES = sorted((KNOWLEDGE / "articles").glob("*.md"))
GUIDES = sorted((KNOWLEDGE / "guides").glob("*.md"))
CRITERIA = KNOWLEDGE / "criteria.yaml"

MONTHS = {
    name: i
    for i, name in enumerate(
        (
            "January February March April May June July August September October November December"
        ).split(),
        start=1,
    )
}
NUMBER_TOKEN = re.compile(r"\d+(?:[.,/]\d+)*")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
GROUPED_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def norm_text(text: str) -> str:
    """NFC-normalises and collapses all whitespace (incl. no-break spaces) to single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def norm_number(token: str) -> str:
    """Maps '1.000'/'1,000' -> '1000', '71,2'/'71.2' -> '71.2', '05/07/2012' -> '5/7/2012'."""
    if "/" in token:
        return "/".join(norm_number(part) for part in token.split("/"))
    if GROUPED_THOUSANDS.fullmatch(token):
        return re.sub(r"[.,]", "", token)
    integer, _, fraction = token.replace(",", ".").partition(".")
    integer = str(int(integer))
    return f"{integer}.{fraction}" if fraction else integer


def number_tokens(text: str) -> set[str]:
    """All number-like tokens of a text, normalised; ISO dates count as d/m/yyyy."""
    text = ISO_DATE.sub(lambda m: f"{m.group(3)}/{m.group(2)}/{m.group(1)}", text)
    return {norm_number(t) for t in NUMBER_TOKEN.findall(text)}


def english_dates_to_numeric(text: str) -> str:
    """Rewrites '20 June' as '20/6' so that facts and Vietnamese dates compare."""
    pattern = r"\b(\d{1,2}) (" + "|".join(MONTHS) + r")\b"
    return re.sub(pattern, lambda m: f"{m.group(1)}/{MONTHS[m.group(2)]}", text)


def load_post(path: Path) -> frontmatter.Post:
    """Parses one knowledge document."""
    return frontmatter.loads(path.read_text(encoding="utf-8"))


def load_criteria() -> dict[str, Any]:
    """Loads criteria.yaml as a mapping."""
    data = yaml.safe_load(CRITERIA.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def is_chrome(line: str) -> bool:
    """True for a seed line that is site chrome rather than article text."""
    return any(p.search(line) for p in CHROME)


def strip_markdown(line: str) -> str:
    """Removes the light Markdown added around the original text (headings, bullets)."""
    return re.sub(r"^(?:#+|-)\s+", "", line.strip())


# --- front matter -----------------------------------------------------------------------------


def test_knowledge_base_is_not_empty() -> None:
    assert len(ARTICLES) == 5
    assert len(GUIDES) >= 8
    assert CRITERIA.is_file()


@pytest.mark.parametrize("path", MD_FILES, ids=lambda p: p.name)
def test_front_matter(path: Path) -> None:
    post = load_post(path)
    meta = post.metadata
    title = meta.get("title")
    assert isinstance(title, str) and title.strip()
    assert meta.get("doc_type") in DOC_TYPES
    assert meta.get("status") in STATUSES
    assert meta.get("language") == "vi"
    assert meta.get("source") or meta.get("url"), "needs source and/or url"
    assert post.content.strip(), "empty body"
    if meta.get("status") == "superseded":
        assert meta.get("superseded_by")
    # News reports on the rules and is not a rule; a guide is our summary, never the law.
    assert (meta.get("status") == "not_applicable") == (meta.get("doc_type") == "news")
    if meta.get("doc_type") == "guide":
        assert "number" not in meta, "a guide names the law it summarises in based_on"
    if "issued" in meta:
        issued = meta["issued"]
        if isinstance(issued, str):
            issued = dt.date.fromisoformat(issued)
        assert isinstance(issued, dt.date)
        assert dt.date(2000, 1, 1) <= issued <= dt.date(2030, 12, 31)
    if "number" in meta:
        assert isinstance(meta["number"], str) and "/" in meta["number"]


# --- seed fidelity ----------------------------------------------------------------------------


def _seed_pairs() -> list[tuple[Path, str]]:
    return [(path, str(load_post(path).metadata.get("seed", ""))) for path in ARTICLES]


def test_every_seed_has_exactly_one_article() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed directory not found at {SEEDS}")
    referenced = [seed for _, seed in _seed_pairs()]
    assert sorted(referenced) == sorted(p.name for p in SEEDS.glob("*.txt"))


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_article_keeps_seed_text(path: Path) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed directory not found at {SEEDS}")
    post = load_post(path)
    seed = SEEDS / str(post.metadata["seed"])
    assert seed.is_file(), f"seed {seed.name} missing"
    seed_text = seed.read_text(encoding="utf-8")
    body = norm_text(post.content)
    missing = [
        line
        for raw in seed_text.splitlines()
        if len(line := norm_text(raw)) >= MIN_SEED_LINE and not is_chrome(line)
        if line not in body
    ]
    assert not missing, f"seed lines missing from {path.name}: {missing[:3]}"


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_article_adds_no_text(path: Path) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed directory not found at {SEEDS}")
    post = load_post(path)
    seed_norm = norm_text((SEEDS / str(post.metadata["seed"])).read_text(encoding="utf-8"))
    added = [
        line
        for raw in post.content.splitlines()
        if (line := norm_text(strip_markdown(raw))) and line not in seed_norm
    ]
    assert not added, f"text not in the seed: {added[:3]}"


def test_article_metadata_matches_brief() -> None:
    by_seed = {str(load_post(p).metadata["seed"]): load_post(p).metadata for p in ARTICLES}
    assert by_seed["004_233deae6c23260a5.txt"]["number"] == "2665/QĐ-UBND"
    assert by_seed["004_233deae6c23260a5.txt"]["province"] == "Quảng Nam"
    assert by_seed["001_dbb4702459d210f3.txt"]["number"] == "04/CT-BCT"
    assert by_seed["002_02c06a51d59f2037.txt"]["province"] == "Vĩnh Long"
    assert all(meta["doc_type"] == "news" for meta in by_seed.values())


# --- no invented numbers ----------------------------------------------------------------------


def test_number_normaliser() -> None:
    assert norm_number("1.000") == norm_number("1,000") == "1000"
    assert norm_number("71,2") == norm_number("71.2") == "71.2"
    assert norm_number("05/07/2012") == "5/7/2012"
    assert norm_number("04") == "4"
    assert english_dates_to_numeric("by 20 June each year") == "by 20/6 each year"
    assert number_tokens("45/2012/NĐ-CP, 30%, 1,5 lần") == {"45/2012", "30", "1.5"}
    assert number_tokens("issued: 2012-05-21") == {"21/5/2012"}


@pytest.fixture(scope="module")
def allowed_numbers() -> set[str]:
    if not FACTS.is_file():
        pytest.skip(f"domain facts not found at {FACTS}")
    texts = [english_dates_to_numeric(FACTS.read_text(encoding="utf-8"))]
    if SEEDS.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")]
    return set().union(*(number_tokens(t) for t in texts))


@pytest.mark.parametrize("path", [*GUIDES, CRITERIA], ids=lambda p: p.name)
def test_no_invented_numbers(path: Path, allowed_numbers: set[str]) -> None:
    invented = number_tokens(path.read_text(encoding="utf-8")) - allowed_numbers
    assert not invented, f"numbers in {path.name} not found in facts or seeds: {sorted(invented)}"


# --- criteria.yaml ----------------------------------------------------------------------------


def test_criteria_ids_unique_and_tri_state() -> None:
    data = load_criteria()
    assert isinstance(data["version"], int)
    assert "Trung tâm Khuyến công" in data["legal_notice"]
    ids: list[str] = []
    for section, key in (
        ("beneficiary_types", "eligible"),
        ("area_rules", "rural"),
        ("sectors", "eligible"),
    ):
        entries = data[section]
        assert entries, section
        for entry in entries:
            assert entry[key] in TRI_STATE, (section, entry["id"])
            assert entry["label"] and entry["legal_basis"]
            ids.append(entry["id"])
    ids += [item["id"] for item in data["support_items"]]
    ids += [prov["id"] for prov in data["provinces"]]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_criteria_support_items_complete() -> None:
    items = load_criteria()["support_items"]
    for item in items:
        assert item["level"] and item["legal_basis"], item["id"]
        docs = item["required_documents"]
        assert isinstance(docs, list) and docs and all(isinstance(d, str) and d for d in docs)
        assert item["confidence"] in {"H", "M"}
        cap = item["cap_million_vnd"]
        assert cap is None or (isinstance(cap, int | float) and cap > 0)


def test_criteria_do_not_invent_missing_levels() -> None:
    items = {item["id"]: item for item in load_criteria()["support_items"]}
    for missing in (
        "dao_tao_nghe",
        "hoi_cho_trong_nuoc",
        "nhan_hieu_thuong_hieu",
        "thiet_ke_bao_bi",
        "tu_van",
        "chuyen_doi_so",
    ):
        assert items[missing]["cap_million_vnd"] is None, missing
    assert items["may_moc_thiet_bi"]["cap_million_vnd"] == 300
    assert items["mo_hinh_trinh_dien"]["cap_million_vnd"] == 1000
    assert items["ha_tang_cum_cong_nghiep"]["cap_million_vnd"] == 6000


def test_criteria_provinces_and_next_steps() -> None:
    data = load_criteria()
    labels = {p["label"] for p in data["provinces"]}
    assert {"Quảng Nam", "Phú Thọ", "Tỉnh khác"} <= labels
    assert {"eligible", "not_eligible", "verify"} <= set(data["next_steps"])
    assert all(text.strip() for text in data["next_steps"].values())
