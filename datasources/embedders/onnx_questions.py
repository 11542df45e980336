"""The local model's questions under ONNX Runtime: the same weights, about half the CPU of PyTorch per question.

A question is one short text, where PyTorch spends much of its time outside the arithmetic; ONNX Runtime
runs the same graph in about half the CPU (bench/answers.py, one thread). The graph is exported from the
installed all-MiniLM-L6-v2 (the transformer and its mean pooling) into VAR_DIR/models/ once, by
`manage.py prepare_embedder` at install time (`make run`) or else on first use, with no download. Documents keep
PyTorch, so every stored vector stays valid:
- `onnx`: float32, vectors within 1e-6 of PyTorch's; nothing a visitor reads changes.
- `onnx-int8`: the linear layers' weights quantized to int8 per output channel after the export (dynamic
  quantization); faster again, vectors within about 0.98 cosine of float32 ones.

Imported only where the local model loads (it imports torch and ONNX Runtime).
"""

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch

# Bumped when the export below changes, so that a graph built by older code is built again.
EXPORT_VERSION = 1
INPUTS = ("input_ids", "attention_mask")


class OnnxQuestionEncoder:
    """Embeds one question at a time through the exported graph (vectors not yet normalised)."""

    def __init__(self, path: Path, tokenizer, max_length: int):
        options = onnxruntime.SessionOptions()
        # One thread: a question is a few milliseconds of arithmetic, which more threads would spend
        # mostly waking each other up; CPU per question is what counts, and requests run side by side.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer
        self._max_length = max_length

    def encode(self, text: str) -> np.ndarray:
        encoded = self._tokenizer([text], truncation=True, max_length=self._max_length, return_tensors="np")
        feed = {name: encoded[name].astype(np.int64) for name in INPUTS}
        return self._session.run(None, feed)[0][0]


def encoder_for(model, *, quantized: bool, directory: Path) -> OnnxQuestionEncoder:
    """The question encoder of a loaded SentenceTransformer, exported first if this install has not yet."""
    path = graph_path(model, quantized=quantized, directory=directory)
    if not path.exists():
        build(model, path, quantized=quantized)
    return OnnxQuestionEncoder(path, model.tokenizer, model.max_seq_length)


def graph_path(model, *, quantized: bool, directory: Path) -> Path:
    """Where this install's graph lives: named after the weights file (path, size, time) and the tools'
    versions, so reinstalled weights or another torch or onnx give a graph of their own."""
    weights = Path(model[0].auto_model.name_or_path) / "model.safetensors"
    stat = weights.stat()
    source = f"{weights}:{stat.st_size}:{stat.st_mtime_ns}:{torch.__version__}:{onnx.__version__}:{EXPORT_VERSION}"
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    return directory / f"minilm-questions-{digest}{'-int8' if quantized else ''}.onnx"


def build(model, path: Path, *, quantized: bool) -> None:
    """Export the model's transformer and mean pooling to `path` (written whole, or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as workdir:
        exported = Path(workdir) / "float32.onnx"
        _export(model, exported)
        if quantized:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(exported, Path(workdir) / "int8.onnx", weight_type=QuantType.QInt8, per_channel=True)
            exported = Path(workdir) / "int8.onnx"
        os.replace(exported, path)  # atomic: processes building at once each leave a whole graph


def _export(model, path: Path) -> None:
    example = model.tokenizer(["What was the revenue this quarter?"], return_tensors="pt")
    # The tracer warns that the attention mask's branches become constants: they are, for texts without a
    # key-value cache, which is all an encoder sees (tests/test_embedders.py compares texts of every length).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(MeanPooled(model[0].auto_model).eval(), tuple(example[name] for name in INPUTS), path,
                          input_names=list(INPUTS), output_names=["pooled"], opset_version=17, dynamo=False,
                          dynamic_axes={name: {0: "texts", 1: "tokens"} for name in INPUTS})


class MeanPooled(torch.nn.Module):
    """The transformer's token vectors averaged over the text's own tokens, as the model's Pooling module does."""

    def __init__(self, transformer):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids, attention_mask):
        tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
