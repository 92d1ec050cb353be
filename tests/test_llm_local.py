"""The local path: a tiny random-weight causal LM (Llama, 2 layers, dim 32) with a byte-level BPE
tokenizer and a chat template, built on the fly; generated on CPU and streamed token by token."""

import os

import pytest

from qa.answerers import LLM, Extractive, final
from qa.llm import LLMError, LocalCausalLM
from qa.types import Answer, Document, Hit, Passage

TEMPLATE = ("{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>{% endfor %}"
            "{% if add_generation_prompt %}<s>assistant\n{% endif %}")
SENTENCES = ["2019年计划拆迁3000户，新建安置房50万平方米。", "资料中未找到。", "[1][2][3]", "问题：规则"]


def build(folder, template=TEMPLATE):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(SENTENCES * 3, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
    if template:
        fast.chat_template = template
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
                         bos_token_id=1, eos_token_id=2, pad_token_id=3)
    LlamaForCausalLM(config).save_pretrained(folder)
    # at least 8 new tokens, so that a random model's first pick of </s> does not end the answer empty
    GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=3, min_new_tokens=8).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return build(tmp_path_factory.mktemp("tiny_lm"))


MESSAGES = [{"role": "system", "content": "规则"}, {"role": "user", "content": "2019年计划拆迁多少户？"}]
DOCS = {"d": Document("d", "d.txt", "", "2019年政府工作报告")}
HITS = [Hit(Passage("p", "d", "2019年计划拆迁3000户。", 0, 14), 1.0)]


def fallback():
    return Extractive(lambda q, hits: Answer(q, "2019年计划拆迁3000户。[1]", None, True, [], hits))


def test_a_local_model_streams_token_by_token_with_its_chat_template(tiny_lm):
    backend = LocalCausalLM(str(tiny_lm), device="cpu", max_tokens=12)
    pieces = list(backend.stream(MESSAGES))
    assert len(pieces) >= 2 and all(isinstance(p, str) and p for p in pieces)
    assert pieces == list(backend.stream(MESSAGES))  # greedy: the same tokens again


def test_a_random_model_s_words_are_checked_and_none_is_verified(tiny_lm):
    items = list(LLM(LocalCausalLM(str(tiny_lm), max_tokens=12), fallback(), DOCS).stream("拆迁多少户？", HITS))
    a = final(items)
    assert isinstance(items[0], str)
    if a.answerer == "llm":  # its gibberish holds no [n]: every claim is unverified
        assert a.claims and not any(c.verified for c in a.claims)
    else:  # or it has no words at all, and the extractive answer is shown
        assert "no words" in a.notice


def test_a_folder_without_chat_template_or_model_falls_back(tmp_path):
    bare = build(tmp_path / "bare", template=None)
    with pytest.raises(LLMError, match="chat template"):
        list(LocalCausalLM(str(bare)).stream(MESSAGES))
    a = final(LLM(LocalCausalLM(str(tmp_path / "missing")), fallback(), DOCS).stream("拆迁多少户？", HITS))
    assert a.answerer == "extractive" and a.notice.startswith("LLM unavailable (cannot load the model folder")


def test_a_template_without_a_system_role_gets_the_rules_in_the_first_user_message(tmp_path):
    strict = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
              "<s>{{ m['role'] }}\n{{ m['content'] }}</s>{% endfor %}{% if add_generation_prompt %}<s>assistant\n{% endif %}")
    folder = build(tmp_path / "strict", template=strict)
    from qa.llm import _chat_inputs, _load_local

    tokenizer, _ = _load_local(str(folder), "cpu")
    ids = _chat_inputs(tokenizer, MESSAGES)["input_ids"][0]
    shown = tokenizer.decode(ids)
    assert "system" not in shown and "规则" in shown and shown.index("规则") < shown.index("2019年计划拆迁多少户")
    assert list(LocalCausalLM(str(folder), device="cpu", max_tokens=8).stream(MESSAGES))
