"""Shared fixtures. Everything is built on the fly and offline: no model is ever downloaded."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# unpacked model archives and ONNX exports of the tests' tiny models go to a temporary cache, not
# the user's (~/.cache/qa/models)
os.environ.setdefault("QA_MODEL_CACHE", tempfile.mkdtemp(prefix="qa-test-models-"))

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


# --- the chat app, served from a small index made here (tests/test_app_api.py, test_browser.py) ---

APP_DOCS = {
    "gov-2019.txt": "2019年政府工作报告\n——在区第九届人民代表大会第三次会议上的报告\n(2019年1月10日)\n张伟\n"
                    "一、城中村改造\n2019年计划拆迁3000户，新建安置房50万平方米。\n"
                    "张伟指出，要加快推进地铁5号线和运河公园两个项目建设。\n",
    "gov-2020.txt": "2020年政府工作报告\n——在区第九届人民代表大会第四次会议上的报告\n(2020年1月9日)\n李娜\n"
                    "一、城中村改造\n2020年计划拆迁5000户，新建安置房80万平方米。\n"
                    "李娜强调，要做好老旧小区改造和背街小巷整治。\n",
    # a long report: "查看上下文" has 1000 characters before its passage to scroll past
    "lanterns.txt": "元宵灯会工作安排\n" + "".join(f"第{i}项，园林绿化养护按计划推进，道路保洁每日两次。\n"
                                              for i in range(1, 60)) + "灯会共展出花灯2400盏，由文旅局负责组织。\n",
    "notes<b>.txt": "关于火锅节<script>alert(1)</script>的说明\n"
                    "火锅节每年举办一次，地点在运河广场<img src=x onerror=alert(1)>东侧。\n"
                    "火锅节共有摊位120个<script>alert(2)</script>，由文旅局负责组织。\n",
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_index(tmp_path_factory, tiny_st_model):
    """An index of APP_DOCS (tiny model; dense weight low, so BM25 leads as with the real fallback)."""
    from qa.config import Settings
    from qa.ingest import ingest

    root = tmp_path_factory.mktemp("app")
    docs = root / "docs"
    docs.mkdir()
    for name, body in APP_DOCS.items():
        (docs / name.replace("<", "").replace(">", "")).write_text(body, encoding="utf-8")
    settings = Settings(index_dir=root / "index", embed_model=str(tiny_st_model))
    ingest([docs], settings)
    return settings.index_dir


@pytest.fixture(scope="session")
def llm_url():
    """Base URL of the scripted chat-completions server (tests/llm_server.py) on 127.0.0.1."""
    import llm_server

    server = llm_server.start()
    yield server.url
    server.shutdown()


@pytest.fixture(scope="session")
def app_env(llm_url):
    # the app can answer with the scripted model ("mixed": one claim right, one number made up) when
    # its answer mode is set to llm; extractive stays the default
    return {**os.environ, "QA_DENSE_WEIGHT": "0.05", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
            "TOKENIZERS_PARALLELISM": "false", "QA_LLM_URL": llm_url, "QA_LLM_MODEL": "mixed",
            "QA_STREAM_PAUSE": "0.06"}  # slow enough to type, and send, while an answer streams


@pytest.fixture(scope="session")
def app_url(app_index, app_env, tmp_path_factory):
    """Base URL of `python app.py` serving app_index on a free port; stopped after the session."""
    import subprocess
    import sys
    import time
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    log = open(tmp_path_factory.mktemp("applog") / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py", "--index", str(app_index), "--port", str(port)],
                            cwd=root, env=app_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"the app did not start; see {log.name}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
