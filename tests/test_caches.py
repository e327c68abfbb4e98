"""The test caches return what they stand for, and compute again when their key changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.build_vectors import cached_build_embed
from tests.reference_cache import cached_reference


def test_cached_build_vectors_are_the_models(
    embedding_model: Any, _build_vectors_from_cache: Callable[..., Any], tmp_path: Path
) -> None:
    real = _build_vectors_from_cache
    sent: list[list[str]] = []

    def counting(model: Any, texts: list[str], batch_size: int, progress: Any) -> Any:
        sent.append(list(texts))
        return real(model, texts, batch_size, progress)

    texts = ["hồ sơ đề nghị hỗ trợ", "mức hỗ trợ máy móc", "hồ sơ đề nghị hỗ trợ"]
    first = cached_build_embed(counting, root=tmp_path)(embedding_model, texts, 32, None)
    assert sent == [texts[:2]]  # each missing text once
    np.testing.assert_allclose(first, real(embedding_model, texts, 32, None), atol=1e-5)
    # Another process reads the published shard and sends nothing to the model.
    progress: list[tuple[int, int, str]] = []
    again = cached_build_embed(counting, root=tmp_path)(
        embedding_model, texts, 32, lambda *a: progress.append(a)
    )
    assert len(sent) == 1 and progress == [(0, 3, "embedding"), (3, 3, "embedding")]
    np.testing.assert_array_equal(again, first)
    # Any other model embeds for real, every time, and is not cached.
    passed: list[list[str]] = []

    def fake(model: Any, texts: list[str], batch_size: int, progress: Any) -> Any:
        passed.append(list(texts))
        return np.zeros((len(texts), 4), dtype=np.float32)

    for _ in range(2):
        cached_build_embed(fake, root=tmp_path)(object(), ["x"], 32, None)
    assert passed == [["x"], ["x"]]
    assert [p.name.startswith(embedding_model.path.name) for p in tmp_path.iterdir()] == [True]


def test_a_reference_is_computed_again_for_a_new_key_or_a_torn_file(tmp_path: Path) -> None:
    computed: list[int] = []

    def compute() -> dict[str, np.ndarray]:
        computed.append(1)
        return {"v": np.arange(3.0) + len(computed)}

    first = cached_reference("peer", "k1", compute, root=tmp_path)
    assert (
        cached_reference("peer", "k1", compute, root=tmp_path)["v"].tolist() == first["v"].tolist()
    )
    assert len(computed) == 1
    cached_reference("peer", "k2", compute, root=tmp_path)
    assert len(computed) == 2 and [p.name for p in tmp_path.iterdir()] == ["peer-k2.npz"]
    (tmp_path / "peer-k2.npz").write_bytes(b"torn")
    assert cached_reference("peer", "k2", compute, root=tmp_path)["v"].tolist() == [3.0, 4.0, 5.0]
