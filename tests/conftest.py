"""Shared fixtures. Everything is built on the fly and offline: no model is ever downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# A few sentences of the kind the corpus holds; the tiny tokenizer learns its vocabulary from them.
TINY_MODEL_SENTENCES = [
    "城中村改造完成拆迁和整治5500户，新建安置房100万平方米。",
    "地铁5号线站点建设全面开工，交通网络不断完善。",
    "运河财富小镇引进金融企业三十家，税收增长明显。",
    "五水共治成效明显，河道水质全面改善。",
    "全区地区生产总值稳步增长，一般公共预算收入持续提高。",
    "老旧小区改造惠及居民两万户，加装电梯改善居住条件。",
    "政务服务改革深入推进，最多跑一次事项办理时间大幅缩短。",
    "全區經濟穩步增長，城中村改造完成拆遷。",
    "GDP growth and new jobs in the district.",
]


def _build_tiny_st_model(folder: Path) -> Path:
    """A 2-layer, 32-dim BERT sentence-transformers model with random weights and a WordPiece
    tokenizer trained on TINY_MODEL_SENTENCES, saved as a sentence-transformers folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(TINY_MODEL_SENTENCES * 2,
                            trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials, show_progress=False))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=128)
    hf_dir = folder / "hf"
    fast.save_pretrained(hf_dir)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(hf_dir)

    transformer = Transformer(str(hf_dir), max_seq_length=128)
    pooling = Pooling(32, "mean")
    st_dir = folder / "tiny-st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_dir))
    return st_dir


@pytest.fixture(scope="session")
def tiny_st_model(tmp_path_factory) -> Path:
    """Folder of a tiny sentence-transformers model (BERT, 2 layers, dim 32, random weights).

    Loadable with `qa.embedding.load_model(str(folder))`; its embedding dimension is 32.
    """
    return _build_tiny_st_model(tmp_path_factory.mktemp("tiny_st_model"))
