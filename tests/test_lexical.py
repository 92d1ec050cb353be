import numpy as np
import pytest

from qa import lexical
from qa.lexical import BM25, STOPWORDS, tokenize

PASSAGES = [
    "城中村改造完成拆迁和整治5500户。",
    "新建安置房100万平方米，城中村改造有序推进。",
    "地铁5号线站点建设全面开工。",
    "全区经济稳步增长，城中村改造加快。",
    "运河财富小镇引进金融企业三十家。",
]


@pytest.fixture(scope="module")
def bm25():
    return BM25.build([tokenize(p) for p in PASSAGES])


def test_tokenize_drops_punctuation_stopwords_and_question_words():
    tokens = tokenize("请问报告中提到的城中村改造是什么？拆迁了多少户！")
    assert "城中村改造" in tokens and "拆迁" in tokens
    for gone in ("请问", "报告", "提到", "的", "是", "什么", "多少", "了", "？", "！", "中"):
        assert gone not in tokens
    assert not set(tokens) & STOPWORDS
    assert all(any(c.isalnum() or c == "%" for c in t) for t in tokens)


@pytest.mark.parametrize("question", ["哪些开工了？", "哪里开工？", "什么时候开工？", "开工了吗", "开工多少"])
def test_tokenize_drops_question_words(question):
    assert tokenize(question) == ["开工"]


def test_tokenize_keeps_numbers_and_percent():
    tokens = tokenize("2017年地区生产总值增长8%，完成5500户。")
    assert "2017" in tokens and "5500" in tokens
    assert any("8" in t for t in tokens)


def test_tokenize_folds_traditional_and_full_width():
    assert tokenize("城中村改造完成拆遷和整治５５００戶。") == tokenize("城中村改造完成拆迁和整治5500户。")
    assert tokenize("全區經濟穩步增長") == tokenize("全区经济稳步增长")


@pytest.mark.parametrize("report_words", ["国内生产总值增长", "地区生产总值增长"])
def test_tokenize_gdp_synonym_matches_national_and_regional_reports(report_words):
    for question in ("GDP增长了多少", "ＧＤＰ增长了多少"):
        asked = set(tokenize(question))
        assert {"生产", "总值", "增长"} <= asked & set(tokenize(report_words))
        assert "地区" not in asked and "国内" not in asked


@pytest.mark.parametrize("report, question", [("全年CPI上涨0.2%", "居民消费价格上涨了多少"),
                                              ("R&D经费投入强度2.6%", "研发经费投入强度是多少"),
                                              ("ＰＰＩ下降2.2%", "工业生产者出厂价格下降了多少")])
def test_a_report_that_writes_an_abbreviation_shares_the_words_of_the_question_that_spells_it_out(report, question):
    assert set(tokenize(question)) <= set(tokenize(report))


def test_an_abbreviation_inside_a_latin_word_is_left_alone():
    assert "生产" not in tokenize("GDPR数据保护条例") and "生产" in tokenize("GDP数据")


@pytest.mark.parametrize("text", ["", "？！。，", "的了吗", "🎉"])
def test_tokenize_nothing_to_search(text):
    assert tokenize(text) == []


def test_user_dictionary_keeps_domain_terms_whole():
    assert lexical.USER_DICT.is_file(), "data/userdict.txt is missing"
    assert "城中村改造" in tokenize("推进城中村改造工作")
    assert "运河财富小镇" in tokenize("运河财富小镇建设加快")


def test_custom_user_dictionary(tmp_path, monkeypatch):
    term = "拱宸桥畔数字港"
    assert term not in tokenize(f"建设{term}")
    userdict = tmp_path / "userdict.txt"
    userdict.write_text(f"{term} 20 n\n", encoding="utf-8")
    monkeypatch.setattr(lexical, "USER_DICT", userdict)
    lexical._jieba.cache_clear()
    try:
        assert term in tokenize(f"建设{term}")  # also from jieba_fast: it is given the new words
    finally:
        monkeypatch.undo()
        lexical._jieba.cache_clear()  # the next call loads the project's dictionary again


def test_bm25_ranks_the_passage_with_the_words(bm25):
    scores = bm25.scores(tokenize("城中村改造拆迁多少户"))
    assert scores.dtype == np.float32 and scores.shape == (len(PASSAGES),)
    assert int(np.argmax(scores)) == 0
    assert scores[2] == 0 and scores[4] == 0


def test_bm25_unknown_tokens_score_zero(bm25):
    scores = bm25.scores(["宁波", "不存在的词"])
    assert scores.shape == (len(PASSAGES),)
    assert not scores.any()
    assert not bm25.scores([]).any()


def test_bm25_idf(bm25):
    assert bm25.idf("宁波") > bm25.idf("地铁") > bm25.idf("城中村改造")
    assert bm25.idf("城中村改造") > 0


def test_bm25_knows(bm25):
    assert bm25.knows("地铁")
    assert bm25.knows("城中村改造")
    assert not bm25.knows("宁波")


def test_bm25_save_load_round_trip(bm25, tmp_path):
    bm25.save(tmp_path / "bm25")
    assert not list((tmp_path / "bm25").glob("*.pkl"))  # arrays and JSON, no pickles
    loaded = BM25.load(tmp_path / "bm25")
    for query in ("城中村改造拆迁多少户", "地铁站点", "运河财富小镇金融企业", "宁波"):
        tokens = tokenize(query)
        np.testing.assert_array_equal(loaded.scores(tokens), bm25.scores(tokens))
    assert loaded.idf("地铁") == bm25.idf("地铁")
    assert loaded.knows("地铁") and not loaded.knows("宁波")


def test_bm25_empty_documents_keep_rows_aligned():
    index = BM25.build([[], ["地铁"], []])
    scores = index.scores(["地铁"])
    assert scores.shape == (3,)
    assert scores[1] > 0 and scores[0] == 0 and scores[2] == 0


def test_bm25_empty_corpus():
    index = BM25.build([])
    assert not index.scores(["地铁"]).any()
    assert not index.knows("地铁")


DICTIONARY_PROBE = r"""
import json, sys
import jieba
if sys.argv[1] == "cached":  # jieba's own dictionary loading must not run: everything comes from the cache
    def refuse(*args, **kwargs):
        raise AssertionError("jieba read its dictionary although qa's cache was there")
    jieba.Tokenizer.initialize = jieba.Tokenizer.gen_pfdict = refuse
from qa import lexical
texts = ["", "字", "拱墅区城中村改造完成拆迁和整治5500户", "全區經濟穩步增長，城中村改造完成拆遷。",
         "GDP增长7.5%😀，许明强调运河财富小镇", "那固定资产投资呢？"]
print(json.dumps({
    "tag": [lexical.word_tag(w) for w in ("拱墅区", "许明", "城中村改造", "杭州", "没有这个词")],
    "frequency": [lexical.general_frequency(w) for w in ("经济", "城中村改造", "没有这个词")],
    "tokens": [lexical.tokenize(t) for t in texts],
    "words": [lexical.segment(t) for t in texts],
    "tagged": [[(w.word, w.flag) for w in lexical._jieba().posseg.cut(t)] for t in texts],
}, ensure_ascii=False))
"""


def test_dictionary_cache_gives_what_jieba_gives_and_user_tags_from_the_start(tmp_path):
    """The first process builds the cache from jieba's own dictionary and the user dictionary; the
    next reads only the cache (jieba's loading is made to fail there) and segments and tags alike.
    The user dictionary's tags count before any tagged cut (拱墅区 is a place at once)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent

    def run(mode):
        out = subprocess.run([sys.executable, "-c", DICTIONARY_PROBE, mode], cwd=root, env=env, check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)

    built = run("build")
    assert len(list(tmp_path.glob("qa-jieba-*.cache"))) == 1
    assert run("cached") == built
    assert built["tag"][:3] == ["ns", "nr", "n"] and built["tag"][4] is None
    assert "城中村改造" in built["tokens"][2] and "运河财富小镇" in built["words"][4]
    assert built["frequency"][0] > 0 and built["frequency"][2] == 0


def test_dictionary_cache_is_not_written_from_a_jieba_that_has_other_words(tmp_path):
    """A process that loaded other words into jieba first (a custom dictionary, as the test above)
    must not leave them in the cache that the next process reads as the project's dictionary."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import jieba; jieba.add_word('拱宸桥畔数字港', 20, 'n'); from qa import lexical; "
            "print(lexical.tokenize('建设拱宸桥畔数字港'))")
    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True, capture_output=True)
    assert not list(tmp_path.glob("qa-jieba-*.cache"))


def test_jieba_fast_cuts_as_jieba_does(monkeypatch):
    """With jieba_fast installed, tokenize uses its cut on jieba's dictionary: the same words on
    the bundled corpus (not on every rare character: see qa.lexical._cut_for_search)."""
    from pathlib import Path

    pytest.importorskip("jieba_fast")
    jieba = lexical._jieba()
    corpus = sorted((Path(__file__).resolve().parent.parent / "data" / "corpus").glob("*.txt"))
    texts = ["", "字", "拱墅区城中村改造完成拆迁和整治5500户", "全區經濟穩步增長，城中村改造完成拆遷。",
             "GDP增长7.5%😀，许明强调运河财富小镇 mixed English 2024年", "那固定资产投资呢？"]
    texts += [p.read_text(encoding="utf-8") for p in corpus[:20]]
    fast = [lexical.tokenize(t) for t in texts]
    assert lexical._cut_for_search() != jieba.lcut_for_search  # the fast one was used
    monkeypatch.setattr(lexical, "_fast_tokenizer", lambda: None)
    assert [lexical.tokenize(t) for t in texts] == fast
    assert sum(map(len, fast)) > 1000


EDGE_TEXTS = ["", "字", "拱墅区城中村改造完成拆迁和整治5500户", "全區經濟穩步增長，城中村改造完成拆遷。",
              "GDP增长7.5%😀，许明强调运河财富小镇 mixed English 2024年\r\n a\tb-c", "那固定资产投资呢？",
              "ｇｄｐ〇〇七 ﾃｽﾄ かな 한국어 x-1.5+#&"]


def _whole(text: str) -> list[str]:
    """tokenize as it was: jieba given the whole text at once."""
    words = lexical._cut_for_search()(lexical.spelled(lexical.for_matching(text)))
    return [w for w in words if lexical.TOKEN.search(w) and w not in STOPWORDS and not lexical.QUESTION_PART.search(w)]


def test_tokens_block_by_block_are_the_tokens_of_the_whole_text():
    """jieba segments each run of BLOCK characters on its own: cutting run by run, and reusing a run
    met before in the same report, gives the words of cutting the text whole."""
    from pathlib import Path

    corpus = sorted((Path(__file__).resolve().parent.parent / "data" / "corpus").glob("*.txt"))
    texts = EDGE_TEXTS + [p.read_text(encoding="utf-8") for p in corpus]
    lines = [line for t in texts for line in t.splitlines()]  # a report's lines share many runs
    expected = [_whole(t) for t in texts + lines]
    assert [tokenize(t) for t in texts + lines] == expected
    shared: dict = {}
    assert [tokenize(t, shared) for t in texts + lines] == expected
    assert len(shared) > 100 and sum(map(len, expected)) > 1000


def test_question_tokens_are_tokenize_once_and_a_fresh_list_each_time():
    from qa.lexical import question_tokens

    q = "2021年温州市地区生产总值是多少？"
    first = question_tokens(q)
    assert first == tokenize(q) and first
    first.append("改动")  # a caller's change does not reach the next caller
    assert question_tokens(q) == tokenize(q)


def test_jieba_pos_viterbi_is_jiebas_viterbi():
    """qa.jieba_pos.viterbi, which jieba.posseg calls once _jieba() ran, against jieba's own: the
    same probability and route on the corpus' runs, random windows of them and random characters
    (rare ones take jieba's all-states path)."""
    import importlib
    import random
    import re
    from pathlib import Path

    from qa import jieba_pos

    jieba = lexical._jieba()
    assert jieba.posseg.viterbi is jieba_pos.viterbi
    theirs = importlib.import_module("jieba.posseg.viterbi").viterbi
    P = jieba.posseg
    model = (P.char_state_tab_P, P.start_P, P.trans_P, P.emit_P)
    corpus = "".join(p.read_text(encoding="utf-8") for p in sorted((Path(__file__).parent.parent / "data" / "corpus").glob("*.txt")))
    runs = re.findall(r"[\u4E00-\u9FD5]+", corpus)
    rng = random.Random(0)
    pool = "".join(runs)
    cases = rng.sample(runs, 300) + [pool[i:i + rng.randint(1, 20)] for i in (rng.randrange(len(pool)) for _ in range(300))]
    cases += ["".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 6))) for _ in range(60)]
    cases += ["的的的的", "了", "〇〇", "丶丶丶"]
    for text in cases:
        assert jieba_pos.viterbi(text, *model) == theirs(text, *model), text


def test_lexicon_entries_cut_as_the_whole_dictionary(tmp_path):
    """A Cutter of only the lexicon's entries among the texts' blocks (qa/jieba_lexicon.py) gives
    the words of the whole dictionary: on the edge texts, the bundled corpus, and runs longer than
    any word (substrings past the longest are looked up never, and are no entry)."""
    from pathlib import Path

    from qa import jieba_lexicon
    from qa.jieba_cut import Cutter

    jieba = lexical._jieba()
    jieba_lexicon.write(tmp_path / "lexicon.npz", jieba.dt.FREQ, jieba.dt.total, jieba.posseg.dt.word_tag_tab)
    lexicon = jieba_lexicon.Lexicon(tmp_path / "lexicon.npz")
    assert lexicon.total == jieba.dt.total and lexicon.longest == max(map(len, jieba.dt.FREQ))
    corpus = sorted((Path(__file__).resolve().parent.parent / "data" / "corpus").glob("*.txt"))
    texts = EDGE_TEXTS + ["中华人民共和国全国人民代表大会常务委员会" * 3, "城中村改造" * 40]
    texts += [p.read_text(encoding="utf-8") for p in corpus[:30]]
    blocks = [piece for t in texts for piece in lexical._pieces(t)[1::2]]
    entries = lexicon.entries(blocks)
    assert all(jieba.dt.FREQ[w] == f for w, f in entries.items())
    assert 1000 < len(entries) < len(jieba.dt.FREQ) // 10
    cuts = (jieba.lcut_for_search, Cutter.of(entries, lexicon.total))
    expected = [tokenize(t) for t in texts]
    assert [tokenize(t, cuts=cuts) for t in texts] == expected
    assert sum(map(len, expected)) > 1000
    tagged = list(jieba.posseg.dt.word_tag_tab)[::50] + ["拱墅区", "许明", "没有这个词", "城中村改造"]
    tags = jieba.posseg.dt.word_tag_tab
    assert lexicon.has_tags and lexicon.tags(tagged) == {w: tags[w] for w in tagged if w in tags}


FEW_CUTS_PROBE = r"""
import json, sys
from qa import lexical
texts = json.loads(sys.stdin.read())
from qa import places
cuts = lexical.few_cuts(texts)
import jieba
tokens = [lexical.tokenize(t, cuts=cuts) for t in texts] if cuts else None
words = ["拱墅区", "许明", "城中村改造", "杭州", "没有这个词", "经济"]
tags, place = lexical.dictionary_tags(words), places.most_named_place(texts[-1])
print(json.dumps({"cuts": cuts is not None, "loaded": jieba.dt.initialized, "tokens": tokens, "tags": tags,
                  "place": place}, ensure_ascii=False))
"""


def test_few_cuts_read_the_lexicon_not_the_dictionary(tmp_path):
    """A fresh process with the cache and lexicon written cuts a few texts from the lexicon,
    jieba's dictionary never loaded, into the words of the whole dictionary (user words included).
    Before the lexicon is written there are no few cuts; once jieba is loaded, neither."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    if lexical._fast_tokenizer() is not None:
        pytest.skip("with jieba_fast installed, tokenize cuts with it, not with the lexicon")
    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parent.parent
    texts = EDGE_TEXTS + [p.read_text(encoding="utf-8")[:3000]
                          for p in sorted((root / "data" / "corpus").glob("*.txt"))[:5]]
    texts[-1] = (root / "data" / "corpus" / "001-gongshu-three-reports-2016-2017.txt").read_text(encoding="utf-8")

    def run():
        out = subprocess.run([sys.executable, "-c", FEW_CUTS_PROBE], cwd=root, env=env, check=True,
                             input=json.dumps(texts), capture_output=True, text=True).stdout
        return json.loads(out)

    assert run()["cuts"] is False  # nothing written yet
    subprocess.run([sys.executable, "-c", "from qa import lexical; lexical._jieba()"], cwd=root, env=env, check=True)
    assert len(list(tmp_path.glob("qa-jieba-*.lexicon.npz"))) == 1
    few = run()
    assert few["cuts"] and not few["loaded"]
    assert few["tokens"] == [tokenize(t) for t in texts]
    from qa import places

    tags = lexical._jieba().posseg.dt.word_tag_tab
    assert few["tags"] == {w: tags[w] for w in ["拱墅区", "许明", "城中村改造", "杭州", "经济"]}
    assert few["place"] == places.most_named_place(texts[-1]) and few["place"]
    assert "城中村改造" in few["tokens"][2]
    lexicon = next(tmp_path.glob("qa-jieba-*.lexicon.npz"))
    lexicon.write_bytes(lexicon.read_bytes()[:100_000])  # damaged on disk: jieba is loaded whole instead
    damaged = run()
    assert damaged["cuts"] is False and damaged["tags"] == few["tags"] and damaged["place"] == few["place"]
    subprocess.run([sys.executable, "-c", "from qa import lexical; lexical._jieba()"], cwd=root, env=env, check=True)
    assert run() == few  # removed when found damaged, written again by the next whole load
    lexical._jieba()
    assert lexical.few_cuts(texts) is None  # loaded here: its own cut


def test_a_cached_file_is_read_only_when_this_user_wrote_it(tmp_path, monkeypatch):
    own = tmp_path / "mine"
    own.write_text("x")
    assert lexical._own(own)
    monkeypatch.setattr(lexical.os, "getuid", lambda: own.stat().st_uid + 1, raising=False)
    assert not lexical._own(own)  # another user's file in the shared temp folder
    monkeypatch.delattr(lexical.os, "getuid")
    assert lexical._own(own)  # Windows: no owners to compare, and a temp folder of one's own
