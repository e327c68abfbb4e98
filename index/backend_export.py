"""Exports a sentence-transformers model directory to ONNX or OpenVINO, cached on disk.

sentence-transformers runs a model on torch, ONNX Runtime or OpenVINO (`backend=`). The two
fast backends need an exported file (`onnx/model*.onnx`, `openvino/openvino_model*.xml`);
this module makes it once, with sentence-transformers' own export and quantisation helpers,
into a directory beside the source model, and later loads come straight from that directory.

The export never touches the source directory: `save_pretrained` rewrites `config.json` and
`tokenizer_config.json`, so it writes into a staging copy, and the source's own
configuration and tokenizer files are then copied back over the rewritten ones, so the
exported model tokenises exactly as the source does. The staging directory is moved into
place with `os.replace`, so an interrupted export never leaves half a model behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.file_lock import exclusive_lock
from index.settings import EmbeddingBackend, EmbeddingQuantization

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Bumped when the export recipe changes, so an older cache is never reused.
EXPORT_VERSION = 1
#: Written last into an exported directory: what it was made from and which file to load.
EXPORT_INFO = "export_info.json"
#: Weight files the exported runtime never reads (the ONNX/OpenVINO file holds the weights).
_TORCH_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def onnx_int8_config() -> str:
    """Returns the `export_dynamic_quantized_onnx_model` preset for this CPU.

    The presets differ in the instructions the int8 kernels target; the fastest one the
    processor supports is chosen ("avx512_vnni" on the production servers).
    """
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "avx2"
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    return "avx512" if "avx512f" in flags else "avx2"


def export_variant(backend: EmbeddingBackend, quantization: EmbeddingQuantization) -> str:
    """Names a backend/quantisation pair, e.g. "onnx-int8-avx512_vnni" or "openvino"."""
    if quantization == "none":
        return backend
    if backend == "onnx":
        return f"onnx-int8-{onnx_int8_config()}"
    return f"{backend}-int8"


def runtime_file(backend: EmbeddingBackend, quantization: EmbeddingQuantization) -> str:
    """Returns the exported file sentence-transformers loads, relative to the model dir."""
    if backend == "onnx":
        if quantization == "int8":
            return f"onnx/model_qint8_{onnx_int8_config()}.onnx"
        return "onnx/model.onnx"
    return "openvino/openvino_model.xml"


def source_fingerprint(source: Path) -> str:
    """Hashes what defines a model directory: small files by content, large ones by size.

    Args:
        source: A sentence-transformers model directory.

    Returns:
        A hex digest that changes when the model, its tokenizer or its modules change.
    """
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source).as_posix()
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        if size <= 1 << 20:  # configs and prompts by content; weights (~470 MB) by size
            digest.update(path.read_bytes())
    return digest.hexdigest()


def exported_dir(
    source: Path,
    cache_dir: Path,
    backend: EmbeddingBackend,
    quantization: EmbeddingQuantization,
) -> Path:
    """Returns where the export of `source` for this backend lives (or will live).

    Args:
        source: The source model directory.
        cache_dir: Directory holding the exports (`MODEL_DIR`).
        backend: "onnx" or "openvino".
        quantization: "none" or "int8".

    Returns:
        `<cache_dir>/<source name>-<variant>-<fingerprint[:12]>`.
    """
    fingerprint = source_fingerprint(source)[:12]
    return cache_dir / f"{source.name}-{export_variant(backend, quantization)}-{fingerprint}"


def is_exported(target: Path) -> bool:
    """Tells whether `target` holds a finished export: its info file (written last) and
    the runtime file that info names, so an export missing its model is made again."""
    try:
        info = json.loads((target / EXPORT_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    file_name = info.get("file_name") if isinstance(info, dict) else None
    return isinstance(file_name, str) and (target / file_name).is_file()


def ensure_exported(
    source: Path,
    cache_dir: Path,
    backend: EmbeddingBackend,
    quantization: EmbeddingQuantization,
) -> Path:
    """Exports `source` for a fast backend unless a finished export is already cached.

    Args:
        source: The sentence-transformers model directory (never modified).
        cache_dir: Where exports are kept (created if missing).
        backend: "onnx" or "openvino".
        quantization: "none" or "int8".

    Returns:
        The exported model directory, loadable with `SentenceTransformer(path, backend=...)`.

    Raises:
        ImportError: The backend's packages (optimum-onnx, onnxruntime, optimum-intel,
            openvino) are not installed.
        OSError: The cache directory cannot be written.
    """
    target = exported_dir(source, cache_dir, backend, quantization)
    if is_exported(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    # One export at a time per cache dir: a second process (another test worker, the CLI
    # beside the bot) waits and then reuses this one's export instead of making its own;
    # exports are CPU-bound, so two at once would not finish sooner than one after the other.
    with exclusive_lock(cache_dir):
        if not is_exported(target):
            _export(source, target, cache_dir, backend, quantization)
    return target


def _export(
    source: Path,
    target: Path,
    cache_dir: Path,
    backend: EmbeddingBackend,
    quantization: EmbeddingQuantization,
) -> None:
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_dir))
    try:
        work = staging / "model"
        shutil.copytree(source, work, ignore=shutil.ignore_patterns(*_TORCH_WEIGHTS))
        loaded = _export_input(source, cache_dir, backend, quantization)
        _export_into(loaded, work, backend, quantization)
        _restore_source_files(source, work)
        info = {
            "source": source.name,
            "fingerprint": source_fingerprint(source),
            "backend": backend,
            "quantization": quantization,
            "file_name": runtime_file(backend, quantization),
            "export_version": EXPORT_VERSION,
        }
        (work / EXPORT_INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        if target.exists() and not is_exported(target):
            # An unfinished or broken export (e.g. one written under another file name by
            # an older version): set it aside, so the finished one can take its place.
            with contextlib.suppress(FileNotFoundError):  # another process moved it first
                os.replace(target, staging / "broken")
        try:
            os.replace(work, target)
        except OSError:
            # Another process finished the same export first (the directory is not empty).
            if not is_exported(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info(
        "Exported %s for %s in %.1f s", source.name, export_variant(backend, quantization),
        time.perf_counter() - started,
    )  # fmt: skip


def _export_input(
    source: Path, cache_dir: Path, backend: EmbeddingBackend, quantization: EmbeddingQuantization
) -> Path:
    """The directory the export loads: `source`, or its finished float ONNX export for int8.

    The int8 file is quantised from the float ONNX model; when that export is already
    cached it is loaded as it is instead of exporting the torch weights again (~40 s), and
    the quantiser's output is the same file (the float export is deterministic).
    """
    if backend == "onnx" and quantization == "int8":
        float_export = exported_dir(source, cache_dir, "onnx", "none")
        if is_exported(float_export):
            return float_export
    return source


def _export_into(
    source: Path, work: Path, backend: EmbeddingBackend, quantization: EmbeddingQuantization
) -> None:
    from sentence_transformers import SentenceTransformer

    # Loading the torch directory with a fast backend makes optimum export it in memory (a
    # float ONNX export is loaded as it is); `save_pretrained` then writes the exported
    # file into the copy, not into `source`.
    kwargs: dict[str, Any] = {}
    if backend == "openvino" and quantization == "int8":
        # int8 weight compression: the one OpenVINO int8 mode that needs no calibration
        # data set (static quantisation would fetch one from a model hub).
        kwargs["model_kwargs"] = {"quantization_config": {"bits": 8}}
    model = SentenceTransformer(str(source), backend=backend, local_files_only=True, **kwargs)
    model.save_pretrained(str(work))
    if backend == "onnx" and quantization == "int8":
        from sentence_transformers import export_dynamic_quantized_onnx_model

        config = onnx_int8_config()
        # The suffix is fixed to the file name `runtime_file` loads: left to
        # sentence-transformers it follows the weight type, and the avx2 preset stores
        # unsigned weights ("model_quint8_avx2.onnx"), which the loader never found on a
        # CPU without AVX-512.
        suffix = Path(runtime_file(backend, quantization)).stem.removeprefix("model_")
        export_dynamic_quantized_onnx_model(model, config, str(work), file_suffix=suffix)
        # The float model is only the quantiser's input; 470 MB not worth keeping.
        (work / "onnx" / "model.onnx").unlink(missing_ok=True)
    _drop_unused(work)


def _drop_unused(work: Path) -> None:
    for name in (*_TORCH_WEIGHTS, "README.md"):
        (work / name).unlink(missing_ok=True)


def _restore_source_files(source: Path, work: Path) -> None:
    # save_pretrained rewrote configs and tokenizer files; the source's own ones are what
    # the index was built with, so they win (same tokens, same prompts, same pooling).
    for path in source.rglob("*"):
        if path.is_file() and path.name not in _TORCH_WEIGHTS:
            destination = work / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def load_exported(
    path: Path,
    backend: EmbeddingBackend,
    quantization: EmbeddingQuantization,
    *,
    device: str,
    threads: int | None,
) -> SentenceTransformer:
    """Loads an exported directory with its backend.

    Args:
        path: A directory made by `ensure_exported`.
        backend: "onnx" or "openvino".
        quantization: "none" or "int8".
        device: Torch-style device name ("cpu").
        threads: Intra-op threads of the runtime; None lets it use every core.

    Returns:
        The model; `encode_query`/`encode_document` work as with torch.
    """
    from sentence_transformers import SentenceTransformer

    model_kwargs: dict[str, Any] = {"file_name": runtime_file(backend, quantization)}
    if backend == "onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        model_kwargs["session_options"] = options
        model_kwargs["provider"] = "CPUExecutionProvider"
    else:
        # f32 unless int8 was asked for: OpenVINO's default is bf16 on CPUs that have it,
        # which would change the vectors from one server to the next.
        ov_config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if quantization == "none":
            ov_config["INFERENCE_PRECISION_HINT"] = "f32"
        if threads is not None:
            ov_config["INFERENCE_NUM_THREADS"] = threads
        model_kwargs["ov_config"] = ov_config
    return SentenceTransformer(
        str(path),
        backend=backend,
        device=device,
        local_files_only=True,
        model_kwargs=model_kwargs,
    )
