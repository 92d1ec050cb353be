import shutil
import socket
import tarfile
import zipfile

import numpy as np
import pytest

from qa import embedding
from qa.embedding import CORPUS_MODEL, ModelUnavailable, load_model, resolve_model, train_corpus_model

# Twenty short passages, each about its own topic; the queries below share words with one of them.
PASSAGES = [
    "城中村改造完成拆迁和整治五千户。新建安置房一百万平方米，回迁安置有序推进。",
    "地铁五号线站点建设全面开工。地铁线路连接城北和城南，站点周边配套同步建设。",
    "运河财富小镇引进金融企业三十家。小镇金融服务业税收增长明显。",
    "五水共治成效明显，河道水质全面改善。治水工作实现河长制全覆盖。",
    "老旧小区改造惠及居民两万户。加装电梯和停车位改善居住条件。",
    "义务教育学校新建六所。教师队伍建设加强，教育质量不断提高。",
    "社区卫生服务中心覆盖所有街道。家庭医生签约服务群众满意。",
    "垃圾分类实现小区全覆盖。生活垃圾减量工作走在全市前列。",
    "文化馆和图书馆免费开放。群众文化活动丰富多彩，文艺演出下基层。",
    "养老服务中心建设加快推进。居家养老服务照料老人一万人次。",
    "数字经济核心产业增加值增长两成。软件和信息服务企业集聚发展。",
    "招商引资签约重大项目四十个。外资实际利用额创历史新高。",
    "道路交通拥堵治理取得进展。新增公共停车泊位三千个。",
    "安全生产形势总体平稳。消防隐患排查整治专项行动深入开展。",
    "就业创业工作扎实推进。城镇新增就业一万二千人，失业率保持低位。",
    "公园绿地面积持续增加。沿河绿道贯通，市民休闲空间更多。",
    "政务服务改革深入推进。最多跑一次事项办理时间大幅缩短。",
    "基层党组织建设全面加强。党员干部作风明显转变。",
    "体育场馆建设服务亚运会。全民健身设施布局更加均衡。",
    "农贸市场提升改造完成十家。食品安全抽检合格率保持高位。",
]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def model_cache(tmp_path, monkeypatch):
    cache = tmp_path / "model-cache"
    monkeypatch.setattr(embedding, "MODEL_CACHE", cache)
    return cache


def check_vectors(vectors: np.ndarray, rows: int, dim: int):
    assert vectors.shape == (rows, dim)
    assert vectors.dtype == np.float32
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_load_tiny_model_offline(tiny_st_model, no_network):
    embedder = load_model(str(tiny_st_model))
    assert embedder.dim == 32
    assert embedder.name == str(tiny_st_model)
    assert embedder.query_prompt is None
    check_vectors(embedder.encode_passages(["城中村改造完成拆迁。", "地铁5号线开工。", ""]), 3, 32)
    check_vectors(embedder.encode_queries(["要拆迁多少户？"]), 1, 32)


def test_encoding_is_deterministic_and_normalised_for_search(tiny_st_model):
    embedder = load_model(str(tiny_st_model))
    a = embedder.encode_passages(["全區經濟穩步增長"])
    b = embedder.encode_passages(["全区经济稳步增长"])
    np.testing.assert_allclose(a, b, atol=1e-6)  # traditional text is folded before embedding
    c = embedder.encode_passages(["地铁五号线站点"])
    assert not np.allclose(a, c)
    np.testing.assert_allclose(embedder.encode_queries(["地铁五号线站点"]), c, atol=1e-6)  # no prompt


def test_known_model_family_gets_its_query_prompt(tiny_st_model, tmp_path):
    folder = tmp_path / "bge-small-zh-tiny"
    shutil.copytree(tiny_st_model, folder)
    embedder = load_model(str(folder))
    assert embedder.query_prompt == embedding.QUERY_PROMPTS["bge-small-zh"]
    assert not np.allclose(embedder.encode_queries(["地铁站点"]), embedder.encode_passages(["地铁站点"]))


def test_load_model_from_zip(tiny_st_model, tmp_path, model_cache, no_network):
    archive = tmp_path / "tiny-zip.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in tiny_st_model.rglob("*"):
            z.write(path, f"tiny-st/{path.relative_to(tiny_st_model).as_posix()}")
    embedder = load_model(str(archive))
    assert embedder.dim == 32
    unpacked = [p for p in model_cache.iterdir() if p.name.startswith("tiny-zip.zip-")]
    assert len(unpacked) == 1 and (unpacked[0] / "tiny-st" / "modules.json").is_file()
    np.testing.assert_allclose(embedder.encode_passages(["地铁"]),
                               load_model(str(tiny_st_model)).encode_passages(["地铁"]), atol=1e-6)
    # a second load uses the unpacked copy
    assert resolve_model(str(archive)) == unpacked[0] / "tiny-st"


def test_load_model_from_tar_gz_without_top_folder(tiny_st_model, tmp_path, model_cache):
    archive = tmp_path / "tiny-tar.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for path in tiny_st_model.iterdir():
            t.add(path, arcname=path.name)
    embedder = load_model(str(archive))
    assert embedder.dim == 32
    folder = resolve_model(str(archive))
    assert folder.parent == model_cache and folder.name.startswith("tiny-tar.tar.gz-")
    assert (folder / "modules.json").is_file()
    check_vectors(embedder.encode_queries(["问题"]), 1, 32)


def test_resolve_model_unknown_name(no_network, monkeypatch, tmp_path):
    for var in ("HF_HUB_CACHE", "SENTENCE_TRANSFORMERS_HOME", "HF_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ModelUnavailable, match="QA_EMBED_MODEL") as err:
        resolve_model("no-such-org/no-such-model")
    assert "no-such-org/no-such-model" in str(err.value)
    assert "--embed-model" in str(err.value)


def test_resolve_model_finds_the_local_hub_cache(tiny_st_model, tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--some-org--tiny" / "snapshots" / "abc123"
    shutil.copytree(tiny_st_model, snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert resolve_model("some-org/tiny") == snapshot


def test_resolve_model_rejects_a_plain_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    with pytest.raises(ModelUnavailable, match="neither a model folder"):
        resolve_model(str(path))


def test_load_model_broken_folder(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "modules.json").write_text("not json", encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="cannot load embedding model"):
        load_model(str(broken))


def test_train_corpus_model(tmp_path, no_network):
    out = tmp_path / "corpus-model"
    trained = train_corpus_model(PASSAGES, out, dim=32, vocab_size=400, steps=30)
    assert trained.name == CORPUS_MODEL
    assert trained.dim == 32
    assert (out / "modules.json").is_file()
    embedder = load_model(str(out))
    assert embedder.dim == 32
    passages = embedder.encode_passages(PASSAGES)
    check_vectors(passages, len(PASSAGES), 32)
    np.testing.assert_allclose(passages, trained.encode_passages(PASSAGES), atol=1e-5)
    for i, query in enumerate(["拆迁安置房", "地铁站点", "运河财富小镇金融", "河道水质治水"]):
        scores = passages @ embedder.encode_queries([query])[0]
        assert scores[i] > scores[(i + 10) % len(PASSAGES)], query  # nearer than an unrelated passage
        assert int(np.argmax(scores)) == i, query


def test_train_corpus_model_is_reproducible(tmp_path):
    a = train_corpus_model(PASSAGES, tmp_path / "a", dim=16, vocab_size=300, steps=10)
    b = train_corpus_model(PASSAGES, tmp_path / "b", dim=16, vocab_size=300, steps=10)
    np.testing.assert_allclose(a.encode_passages(PASSAGES[:3]), b.encode_passages(PASSAGES[:3]), atol=1e-6)


def test_train_corpus_model_on_a_tiny_corpus(tmp_path):
    # too few sentence pairs to tune: the LSA start is still saved and loadable
    trained = train_corpus_model(PASSAGES[:3], tmp_path / "m", dim=16, vocab_size=200, steps=5)
    check_vectors(load_model(str(tmp_path / "m")).encode_passages(["地铁"]), 1, trained.dim)


def _plain(model, texts, prefix):
    return model.encode([prefix + embedding.for_search(t) for t in texts], convert_to_numpy=True,
                        normalize_embeddings=True)


def test_e5_models_get_query_and_passage_prefixes(tiny_st_model, tmp_path):
    folder = tmp_path / "multilingual-e5-tiny"
    shutil.copytree(tiny_st_model, folder)
    embedder = load_model(str(folder))
    assert (embedder.query_prompt, embedder.document_prompt) == ("query: ", "passage: ")
    np.testing.assert_allclose(embedder.encode_passages(["地铁站点"]), _plain(embedder.model, ["地铁站点"], "passage: "),
                               atol=1e-6)
    np.testing.assert_allclose(embedder.encode_queries(["地铁站点"]), _plain(embedder.model, ["地铁站点"], "query: "),
                               atol=1e-6)


def test_a_model_s_own_prompts_are_used_through_encode_query_and_encode_document(tiny_st_model, tmp_path):
    import json

    folder = tmp_path / "own-prompts"
    shutil.copytree(tiny_st_model, folder)
    config = folder / "config_sentence_transformers.json"
    data = json.loads(config.read_text()) if config.exists() else {}
    data["prompts"] = {"query": "查询：", "document": "文档："}
    config.write_text(json.dumps(data, ensure_ascii=False))
    embedder = load_model(str(folder), device="cpu", batch_size=4, max_length=16)
    assert (embedder.query_prompt, embedder.document_prompt) == ("查询：", "文档：")
    assert embedder.added == {"query": None, "document": None}  # not added twice
    assert embedder.model.max_seq_length == 16 and embedder.model.device.type == "cpu" and embedder.batch_size == 4
    np.testing.assert_allclose(embedder.encode_passages(["地铁站点"]), _plain(embedder.model, ["地铁站点"], "文档："),
                               atol=1e-6)
    np.testing.assert_allclose(embedder.encode_queries(["地铁站点"]), _plain(embedder.model, ["地铁站点"], "查询："),
                               atol=1e-6)


def test_device_is_chosen_automatically_or_as_asked():
    import torch

    assert embedding.pick_device("cpu") == "cpu"
    assert embedding.pick_device(None) in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        assert embedding.pick_device(None) != "cuda"


def test_static_embedder_matches_the_sentence_transformers_model(tmp_path):
    """The corpus-trained model read with numpy gives the vectors sentence-transformers gives."""
    from qa.embedding import StaticEmbedder, load_index_model

    train_corpus_model(PASSAGES, tmp_path / "embedder", dim=32, vocab_size=400, steps=10)
    static = load_index_model(CORPUS_MODEL, tmp_path)
    assert isinstance(static, StaticEmbedder) and static.dim == 32
    full = load_model(str(tmp_path / "embedder"), CORPUS_MODEL)
    texts = ["城中村改造拆迁多少户？", "", "地铁 line 5 号线 2024", "全區經濟穩步增長 😀"]
    np.testing.assert_allclose(static.encode_queries(texts), full.encode_queries(texts), atol=1e-6)
    np.testing.assert_allclose(static.encode_passages(PASSAGES), full.encode_passages(PASSAGES), atol=1e-6)
    check_vectors(static.encode_passages(PASSAGES), len(PASSAGES), 32)


def test_asking_with_the_corpus_model_imports_neither_torch_nor_sentence_transformers(tmp_path, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    from qa import ingest as ingest_module
    from qa.config import Settings

    monkeypatch.setattr(ingest_module, "train_corpus_model",
                        lambda texts, out: train_corpus_model(texts, out, dim=16, vocab_size=300, steps=5))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("\n".join(PASSAGES), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tmp_path / "no-model-here"))
    assert ingest_module.ingest([corpus], settings).model == CORPUS_MODEL
    code = ("import sys; from qa.cli import main; main(['ask', '地铁五号线建设', '--index', sys.argv[1]]); "
            "print('HEAVY', sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code, str(settings.index_dir)], cwd=root, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "地铁" in out.stdout
    assert "HEAVY []" in out.stdout


def test_train_corpus_model_learns_from_a_seeded_sample_of_a_big_corpus(tmp_path):
    many = [f"{p}第{n}次。" for n in range(4) for p in PASSAGES]
    a = train_corpus_model(many, tmp_path / "a", dim=16, vocab_size=300, steps=5, max_texts=len(PASSAGES))
    b = train_corpus_model(many, tmp_path / "b", dim=16, vocab_size=300, steps=5, max_texts=len(PASSAGES))
    vectors = a.encode_passages(many)
    check_vectors(vectors, len(many), 16)  # every passage is embedded, sampled or not
    np.testing.assert_array_equal(vectors, b.encode_passages(many))


def test_static_embedder_encodes_in_batches_as_one(tmp_path, monkeypatch):
    from qa import embedding as module

    trained = train_corpus_model(PASSAGES, tmp_path / "m", dim=16, vocab_size=300, steps=5)
    whole = trained.encode_passages(PASSAGES)
    monkeypatch.setattr(module, "ENCODE_BATCH", 3)
    np.testing.assert_array_equal(trained.encode_passages(PASSAGES), whole)


@pytest.mark.parametrize("big", [False, True])
def test_training_threads(tmp_path, monkeypatch, big):
    """torch trains on one thread, and restores its count; the SVD of a big corpus runs on one BLAS
    thread (the same model on any machine), a small corpus' on BLAS's own (the model it always had)."""
    import torch
    from threadpoolctl import threadpool_info

    seen = {}
    real = embedding._lsa_weights

    def lsa(*args):
        seen["blas"] = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        seen["torch"] = torch.get_num_threads()
        return real(*args)

    monkeypatch.setattr(embedding, "_lsa_weights", lsa)
    monkeypatch.setattr(embedding, "ONE_THREAD_FROM", len(PASSAGES) if big else len(PASSAGES) + 1)
    before = torch.get_num_threads()
    blas = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    train_corpus_model(PASSAGES, tmp_path / "m", dim=16, vocab_size=300, steps=5)
    assert seen == {"blas": 1 if big else blas, "torch": 1}
    assert torch.get_num_threads() == before


def test_a_model_trained_apart_on_a_sample_is_the_one_trained_here(tmp_path):
    """Trained in a child process that is sent only the sampled texts: the same model (the same
    bytes for ingest's 10k corpus: README, Scale; here to the last bits two trainings differ by)."""
    from qa.embedding import train_corpus_model_apart

    sample = len(PASSAGES) - 3  # fewer than the texts: the child sees a stand-in for all of them
    here = train_corpus_model(PASSAGES, tmp_path / "here", dim=16, vocab_size=300, steps=10, max_texts=sample)
    apart = train_corpus_model_apart(PASSAGES, tmp_path / "apart", dim=16, vocab_size=300, steps=10, max_texts=sample)
    assert (tmp_path / "here" / "tokenizer.json").read_bytes() == (tmp_path / "apart" / "tokenizer.json").read_bytes()
    np.testing.assert_allclose(here.encode_passages(PASSAGES), apart.encode_passages(PASSAGES), atol=1e-5)
    other = train_corpus_model(PASSAGES, tmp_path / "other", dim=16, vocab_size=300, steps=10, max_texts=sample - 1)
    assert not np.allclose(other.encode_passages(PASSAGES), here.encode_passages(PASSAGES), atol=1e-3)  # another sample
