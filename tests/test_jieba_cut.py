from pathlib import Path

import pytest

from qa import lexical
from qa.jieba_cut import Cutter

CORPUS = sorted((Path(__file__).resolve().parent.parent / "data" / "corpus").glob("*.txt"))


def _blocks():
    texts = ["拱墅区城中村改造完成拆迁和整治5500户", "GDP增长7.5%，许明强调运河财富小镇x-1.5+#&", "字", "鶏衞汚",
             "二〇二四年一月二十三日", "abc123", "的的的的的"]
    texts += [lexical.for_matching(p.read_text(encoding="utf-8")) for p in CORPUS]
    return [b for t in texts for b in lexical.BLOCK.findall(t)]


def test_the_cut_is_jiebas_word_for_word():
    jieba = lexical._jieba()
    cut = Cutter(jieba.dt)
    blocks = _blocks()
    assert len(blocks) > 1000
    assert [cut(b) for b in blocks] == [jieba.lcut_for_search(b) for b in blocks]


def test_a_word_added_to_jieba_is_noticed():
    import jieba

    tokenizer = jieba.Tokenizer()
    cut = Cutter(tokenizer)
    assert cut.current(tokenizer)
    tokenizer.add_word("拱宸桥畔数字港", 20, "n")
    assert not cut.current(tokenizer)
    assert Cutter(tokenizer)("建设拱宸桥畔数字港") == tokenizer.lcut_for_search("建设拱宸桥畔数字港")


def test_tokenize_uses_it_without_jieba_fast(monkeypatch):
    monkeypatch.setattr(lexical, "_fast_tokenizer", lambda: None)
    assert isinstance(lexical._block_cut(), Cutter)


def test_jieba_fast_cuts_when_installed():
    pytest.importorskip("jieba_fast")
    assert not isinstance(lexical._block_cut(), Cutter)


def _hmm_texts():
    """Every block of the bundled corpus, and its substrings of 2 to 6 characters from every second
    character (the HMM's usual input is a few characters the dictionary route left alone), with
    letters, digits, rare characters and text jieba does not split into runs."""
    blocks = _blocks()
    texts = blocks + ["ab12.5%中文x", "鶏衞汚鶏", "🙂，。 ", "", "a", "中", "3.14e5", "鬯鬯鬯鬯鬯鬯"]
    for b in blocks:
        texts += [b[i:i + n] for i in range(0, len(b), 2) for n in (2, 3, 4, 6) if len(b[i:i + n]) == n]
    return texts


def test_the_hmm_cut_is_finalsegs_word_for_word():
    from jieba import finalseg

    from qa.jieba_cut import hmm_cut

    texts = _hmm_texts()
    assert len(texts) > 10_000
    assert [hmm_cut(t) for t in texts] == [list(finalseg.cut(t)) for t in texts]


def test_the_hmm_cut_splits_finalsegs_forced_words(monkeypatch):
    from jieba import finalseg

    from qa.jieba_cut import hmm_cut

    text = "改造完成拆迁整治新建安置房"
    words = list(finalseg.cut(text))
    forced = next(w for w in words if len(w) > 1)
    monkeypatch.setattr(finalseg, "Force_Split_Words", {forced})
    assert hmm_cut(text) == list(finalseg.cut(text)) != words
    assert all(c in hmm_cut(text) for c in forced)
