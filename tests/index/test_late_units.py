"""Late chunking: answer-unit vectors pooled from their chunk's own pass (index/late_units.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from index.late_units import embed_chunks_with_units, pool_spans, supports_late_units, unit_spans
from index.schema import Chunk
from index.units import units_for_chunk

if TYPE_CHECKING:
    from index.embedding import EmbeddingModel

BODY = (
    "Hồ sơ đề nghị **hỗ trợ** gồm:\n"
    "- Giấy chứng nhận   đăng ký kinh doanh.\n"
    "- Báo giá máy móc thiết bị; bản cam kết.\n"
    "\n"
    "Việc triển khai chương trình nhằm huy động các nguồn lực. Mỗi cơ sở được hỗ trợ\t"
    "tối đa `300` triệu đồng.\n"
)
CHUNK = Chunk(chunk_id=7, doc_id="d", text=BODY, index_text=f"Đề án khuyến công > Hồ sơ\n{BODY}")


def _joined(text: str, ranges: list[tuple[int, int]]) -> list[str]:
    return [" ".join(text[start:end].replace("**", "").split()) for start, end in ranges]


def test_spans_cover_the_label_and_the_body_each_unit_embeds() -> None:
    units = units_for_chunk(CHUNK)
    spans = unit_spans(CHUNK, units)
    assert all(found is not None for found in spans)
    by_kind = {(u.kind, u.text): s for u, s in zip(units, spans, strict=True)}
    item = by_kind[("item", "Giấy chứng nhận đăng ký kinh doanh.")]
    assert item is not None
    # Emphasis and runs of spaces are cleaned out of unit texts but not out of the chunk.
    assert _joined(CHUNK.index_text, item) == [
        "Hồ sơ đề nghị hỗ trợ gồm:",
        "Giấy chứng nhận đăng ký kinh doanh.",
    ]
    sentence = by_kind[("sentence", "Mỗi cơ sở được hỗ trợ tối đa 300 triệu đồng.")]
    assert sentence is not None
    assert _joined(CHUNK.index_text, sentence) == ["Mỗi cơ sở được hỗ trợ tối đa `300` triệu đồng."]
    whole = by_kind[("list", "Hồ sơ đề nghị hỗ trợ gồm:")]
    assert whole is not None and len(whole) == 3


def test_a_unit_not_in_its_chunk_has_no_span() -> None:
    (unit,) = units_for_chunk(Chunk(chunk_id=1, doc_id="d", text="Một câu khác hẳn ở đây."))
    assert unit_spans(CHUNK, [unit]) == [None]


def test_a_span_beyond_the_last_token_is_not_pooled() -> None:
    states = np.eye(3, 4, dtype=np.float32)
    offsets = np.array([[-1, -1], [0, 5], [6, 10]])
    inside, truncated, missing = pool_spans(states, offsets, [[(6, 10)], [(6, 30)], None])
    assert inside is not None and np.allclose(inside, [0, 0, 1, 0])
    assert truncated is None and missing is None


def test_one_pass_gives_the_chunk_vector_and_close_unit_vectors(
    embedding_model: EmbeddingModel,
) -> None:
    from index.embedding import encode_passages

    if not supports_late_units(embedding_model):
        pytest.skip("the default model has no token states on this backend")
    stray = Chunk(chunk_id=8, doc_id="d", text="Máy móc **mới** 100%.", index_text="Máy móc mới")
    separate: list[list[str]] = []

    def embed_separately(texts: list[str]) -> np.ndarray:
        separate.append(texts)
        return encode_passages(embedding_model, texts)

    matrices = embed_chunks_with_units(
        embedding_model, [CHUNK, stray], batch_size=8, embed_separately=embed_separately
    )
    units = units_for_chunk(CHUNK)
    assert [m.shape for m in matrices] == [(1 + len(units), 384), (2, 384)]
    chunk_vectors = encode_passages(embedding_model, [CHUNK.index_text, stray.index_text])
    assert np.allclose(matrices[0][0], chunk_vectors[0], atol=1e-5)
    alone = encode_passages(embedding_model, [u.embed_text for u in units])
    cosines = (matrices[0][1:] * alone).sum(axis=1)
    # Contextual, so not equal: 0.93 on average over knowledge/ (measured), never unrelated.
    assert cosines.min() > 0.75
    # The stray chunk's unit is not in its index_text: embedded on its own, once.
    assert separate == [["Máy móc mới 100%."]]
    assert np.allclose(matrices[1][1], encode_passages(embedding_model, separate[0])[0], atol=1e-5)


def test_late_setting_gives_unit_vectors_with_the_chunk_vectors(
    tmp_path: Path, embedding_model: EmbeddingModel, model_cache_dir: Path
) -> None:
    from index.answer_build import embed_new_chunks
    from index.settings import Settings

    settings = Settings(data_dir=tmp_path, MODEL_DIR=model_cache_dir, unit_vectors="late")
    vectors, late, sent = embed_new_chunks(embedding_model, [CHUNK], settings, None)
    assert vectors.shape == (1, 384) and sent == 1
    if supports_late_units(embedding_model):
        assert late is not None and late[CHUNK.chunk_id].shape == (len(units_for_chunk(CHUNK)), 384)
    separate = settings.model_copy(update={"unit_vectors": "separate"})
    again, none, _ = embed_new_chunks(embedding_model, [CHUNK], separate, None)
    assert none is None and np.allclose(again, vectors, atol=1e-5)
