"""A tiny sentence-transformers model built at test time: nothing is downloaded.

A 2-layer BERT with hidden size 32 and random (seeded) weights, a WordPiece vocabulary written
here, mean pooling and normalisation, saved the way a real model directory is laid out.
Callers ``pytest.importorskip("sentence_transformers")`` first.
"""

from __future__ import annotations

import importlib
from pathlib import Path

WORDS = ("hello", "world", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
         "lynkr", "proxy", "embeddings", "search", "code", "python", "function", "return")
HIDDEN = 32


def _modules() -> object:
    """sentence-transformers 6 moved ``models`` (which now warns) to a new place."""
    try:
        return importlib.import_module("sentence_transformers.sentence_transformer.modules")
    except ImportError:
        return importlib.import_module("sentence_transformers.models")


def build_tiny_model(directory: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    modules = _modules()
    base = directory / "bert"
    base.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz",
             *(f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"), *WORDS]
    (base / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(base / "vocab.txt"))  # positional: vocab file in 4 and 5
    config = BertConfig(vocab_size=len(vocab), hidden_size=HIDDEN, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    transformer = modules.Transformer(str(base), max_seq_length=64)  # type: ignore[attr-defined]
    pooling = modules.Pooling(HIDDEN, "mean")  # type: ignore[attr-defined]
    model = SentenceTransformer(modules=[transformer, pooling, modules.Normalize()],  # type: ignore[attr-defined]
                                device="cpu")
    path = directory / "tiny-st"
    model.save(str(path))
    return path
