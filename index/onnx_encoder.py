"""The ONNX export run with plain onnxruntime and `tokenizers`: no torch on the serving path.

sentence-transformers' `backend="onnx"` runs the same ONNX file, but importing it pulls in
torch and transformers, which is most of a cold start (README, "Embedding backends"). This
module repeats exactly what sentence-transformers does for a Transformer → Pooling →
(Normalize) model, reading the same files of the exported directory:

- the prompt from `config_sentence_transformers.json` ("query: ", "passage: " for e5) is
  prepended to each text;
- `tokenizer.json` tokenises, truncated to `max_seq_length` tokens (special tokens
  included, as `truncation="longest_first"` does for one text) and padded to the longest
  text of the batch;
- the last hidden state is pooled as `1_Pooling/config.json` says (mean or CLS token), then
  L2-normalised.

Texts are batched longest first, as `SentenceTransformer.encode` batches them, so even the
padding of each batch is the same. A model this module cannot reproduce (another pooling, a
Dense layer, prompts excluded from pooling) raises `UnsupportedModelError`, and the caller
loads it through sentence-transformers instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

#: Module types a model may have, in this order (the Normalize module is optional).
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
#: sentence-transformers' prompt names for documents, checked in this order.
_DOCUMENT_PROMPTS = ("document", "passage", "corpus")

Pooling = Literal["mean", "cls"]


class TokenStates(NamedTuple):
    """One passage's pooled vector and its token states, from a single forward pass."""

    #: Position of the text in the call's input.
    position: int
    #: The passage vector, as `encode_documents` gives it.
    vector: np.ndarray
    #: (tokens, dim) last hidden state of the text's tokens (prompt and specials included).
    states: np.ndarray
    #: (tokens, 2) character range of each token in the text without its prompt: prompt
    #: tokens have negative ranges, special tokens (-1, -1).
    offsets: np.ndarray


class UnsupportedModelError(ValueError):
    """The model directory has a layout this encoder does not reproduce exactly."""


@dataclass(frozen=True, slots=True)
class ModelLayout:
    """What the encoder reads from a sentence-transformers directory besides the weights."""

    max_seq_length: int
    pooling: Pooling
    normalize: bool
    dim: int
    prompts: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> ModelLayout:
        """Reads the module list, pooling, prompts and sequence length of `path`.

        Raises:
            UnsupportedModelError: The modules are not Transformer → Pooling → (Normalize),
                or the pooling is neither plain mean nor CLS over every token.
        """
        modules = _json(path / "modules.json")
        types = [str(module.get("type", "")) for module in modules]
        if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
            raise UnsupportedModelError(f"modules {types} are not Transformer, Pooling[, Normalize]")
        pooling_config = _json(path / str(modules[1].get("path", "1_Pooling")) / "config.json")
        return cls(
            max_seq_length=_max_seq_length(path),
            pooling=_pooling_mode(pooling_config),
            normalize=len(types) == 3,
            dim=int(pooling_config["word_embedding_dimension"]),
            prompts=_prompts(path),
        )

    def prompt(self, kind: Literal["query", "document"]) -> str:
        """The prompt sentence-transformers' `encode_query` / `encode_document` prepends."""
        names = ("query",) if kind == "query" else _DOCUMENT_PROMPTS
        return next((self.prompts[name] for name in names if name in self.prompts), "")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModelError(f"cannot read {path}: {exc}") from exc


def _max_seq_length(path: Path) -> int:
    # sentence-transformers passes max_seq_length to the tokenizer as model_max_length; only
    # without it does the tokenizer's own limit apply, capped at the position embeddings.
    config = path / "sentence_bert_config.json"
    if config.is_file():
        value = _json(config).get("max_seq_length")
        if value is not None:
            return int(value)
    limit = int(_json(path / "tokenizer_config.json").get("model_max_length", 512))
    positions = int(_json(path / "config.json").get("max_position_embeddings", -1))
    return min(limit, positions) if positions != -1 else limit


def _pooling_mode(config: dict[str, Any]) -> Pooling:
    if not config.get("include_prompt", True):
        raise UnsupportedModelError("pooling excludes the prompt tokens")
    mode = config.get("pooling_mode")  # sentence-transformers >= 5.x writes this key
    if mode is None:
        flags = [key for key, value in config.items() if key.startswith("pooling_mode_") and value]
        mode = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(
            flags[0] if len(flags) == 1 else ""
        )
    if isinstance(mode, list):
        mode = mode[0] if len(mode) == 1 else None
    if mode not in ("mean", "cls"):
        raise UnsupportedModelError(f"pooling {config} is neither mean nor CLS")
    return "mean" if mode == "mean" else "cls"


def _prompts(path: Path) -> dict[str, str]:
    config = path / "config_sentence_transformers.json"
    if not config.is_file():
        return {}
    data = _json(config)
    if data.get("default_prompt_name"):
        raise UnsupportedModelError("a default prompt is not reproduced")
    return {str(k): str(v) for k, v in (data.get("prompts") or {}).items()}


class OnnxEncoder:
    """Embeds texts with an exported ONNX model, as sentence-transformers' ONNX backend does.

    Thread-safe: the session and the tokenizer are only read after loading (truncation is
    applied to each encoding, never configured on the shared tokenizer).

    Args:
        path: An exported model directory (`index.backend_export.ensure_exported`).
        file_name: The ONNX file inside it, e.g. "onnx/model.onnx".
        threads: Intra-op threads of ONNX Runtime; None uses every core.
    """

    #: The chunker may count tokens with `tokenizer` while other threads encode.
    tokenizer_is_shareable = True

    def __init__(self, path: Path, file_name: str, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.path = path
        self.file_name = file_name
        self.layout = ModelLayout.read(path)
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        # The session first: building it holds the file's bytes beside the weights (f32:
        # 885 MB peak for 476 MB kept), and the tokenizer (~290 MB) loaded before it would
        # add to that peak: 1,190 MB measured, 885 MB in this order.
        self.session = ort.InferenceSession(
            str(path / file_name), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {item.name for item in self.session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # Truncation and padding are done per call (see _tokenize): configuring them on the
        # tokenizer would change a shared object and make the chunker's counts truncated.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer: Tokenizer = tokenizer
        self._pad_id = _pad_id(path, tokenizer)
        self._specials = tokenizer.num_special_tokens_to_add(is_pair=False)

    def get_embedding_dimension(self) -> int:
        """The dimension of the sentence embeddings (384 for e5-small)."""
        return self.layout.dim

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embeds queries with the query prompt; rows L2-normalised, float32."""
        return self.encode(texts, prompt=self.layout.prompt("query"), batch_size=batch_size)

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embeds passages with the document prompt; rows L2-normalised, float32."""
        return self.encode(texts, prompt=self.layout.prompt("document"), batch_size=batch_size)

    def encode(self, texts: Sequence[str], *, prompt: str, batch_size: int = 32) -> np.ndarray:
        """Embeds `prompt + text` for each text, in batches of similar length.

        Returns:
            float32 array of shape `(len(texts), dim)`, each row L2-normalised.
        """
        out = np.zeros((len(texts), self.layout.dim), dtype=np.float32)
        # Longest first (by characters, before the prompt; numpy's default sort), as
        # SentenceTransformer.encode batches: the same texts share a batch, hence the same
        # padding. int8 needs it: dynamic quantisation takes its ranges over the whole batch,
        # so another grouping moved vectors to cosine 0.994 (measured).
        order = np.argsort([-len(text) for text in texts])
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start : start + batch_size]
            out[rows] = self._embed_batch([prompt + texts[i] for i in rows])
        return out

    def iter_document_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> Iterator[TokenStates]:
        """Embeds passages as `encode_documents` does, also giving each text's token states.

        Late chunking (`index.late_units`) pools spans of a chunk's tokens into the vectors
        of its answer units, with no second pass over the model.

        Yields:
            One `TokenStates` per text, batch by batch (longest texts first, as `encode`).
        """
        prompt = self.layout.prompt("document")
        order = np.argsort([-len(text) for text in texts])
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start : start + batch_size]
            hidden, mask, encodings = self._forward([prompt + texts[i] for i in rows])
            vectors = self._pool(hidden, mask)
            for row, (i, encoding) in enumerate(zip(rows, encodings, strict=True)):
                count = len(encoding.ids)
                offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2) - len(prompt)
                # Special tokens point at (0, 0) of the prompted text: mark them as no text.
                offsets[np.asarray(encoding.special_tokens_mask, dtype=bool)] = -1
                yield TokenStates(int(i), vectors[row], hidden[row, :count], offsets)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        hidden, mask, _ = self._forward(texts)
        return self._pool(hidden, mask)

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[Encoding]]:
        """Last hidden state, attention mask and encodings of one padded batch."""
        ids, mask, encodings = self._tokenize(texts)
        feeds: dict[str, np.ndarray] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return np.asarray(hidden, dtype=np.float32), mask, encodings

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.layout.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        # Normalize module, then `normalize_embeddings=True`: once is the same to float noise.
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def _tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[Encoding]]:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        limit = self.layout.max_seq_length - self._specials
        finished: list[Encoding] = []
        for encoding in encodings:
            if len(encoding.ids) > limit:
                encoding.truncate(limit)  # keeps the head, as truncation_side="right" does
            finished.append(self.tokenizer.post_process(encoding, None, add_special_tokens=True))
        width = max(len(encoding.ids) for encoding in finished)
        ids = np.full((len(finished), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(finished), width), dtype=np.int64)
        for row, encoding in enumerate(finished):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return ids, mask, finished


def _pad_id(path: Path, tokenizer: Tokenizer) -> int:
    # Padded positions are masked out, so the id only has to be the tokenizer's own pad.
    config = path / "tokenizer_config.json"
    pad = _json(config).get("pad_token") if config.is_file() else None
    if isinstance(pad, dict):
        pad = pad.get("content")
    token_id = tokenizer.token_to_id(str(pad)) if pad else None
    return int(token_id) if token_id is not None else 0
