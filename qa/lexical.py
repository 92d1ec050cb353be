"""Stage 7: BM25 over jieba tokens of the normalised text (bm25s), and the tokens themselves.

A user dictionary of domain terms (data/userdict.txt, or QA_USER_DICT) keeps terms such as
城中村改造 or 运河财富小镇 whole.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

from qa.bm25 import BM25  # noqa: F401  the index over these tokens, importable from here as before
from qa.normalize import for_matching, spelled

USER_DICT = Path(os.environ.get("QA_USER_DICT", Path(__file__).resolve().parent.parent / "data" / "userdict.txt"))
# Function words and question words: they say nothing about which passage answers.
STOPWORDS = set(
    "的 了 和 与 及 或 是 在 有 为 以 对 把 将 被 从 向 于 也 都 而 并 等 中 上 下 里 其 之 这 那 个 "
    "吗 呢 吧 啊 么 哪 谁 几 多少 什么 哪些 哪个 哪里 哪儿 如何 怎么 怎样 为何 为什么 何时 是否 "
    "请问 请 一下 提出 提到 说 讲 报告 我们 要 年 月 日 时候 哪天 几月 几号 哪位 多久 多长 多大 几个 "
    "因为 为了 现在 大概 能 得 已经 还要 一共 具体 打算 是 有 让 了 就 还 再 又 啥 呀 些 吗 "
    "文章 里 当时 那年 这年 期间".split())
TOKEN = re.compile(r"[\w%]")
QUESTION_PART = re.compile(r"^(?:哪|什么|多少|几|怎)|(?:哪些|什么|多少|吗|呢)$")
# jieba's re_han_default: jieba splits a text into runs of these characters and the rest, segments
# each run on its own and the rest a character at a time, so a text's words are its runs' words
# (jieba_fast's runs lack "-", which it too takes a character at a time: the same holds)
BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")


@lru_cache(maxsize=1)
def _jieba():
    """jieba with USER_DICT loaded, its part-of-speech tags ready (see _load_jieba), and its
    part-of-speech HMM searched by qa.jieba_pos (the same tags in a quarter of the time)."""
    from qa import jieba_pos

    jieba = _load_jieba()
    jieba.posseg.viterbi = jieba_pos.viterbi  # the name jieba.posseg's cut calls
    return jieba


def _load_jieba():
    """jieba with USER_DICT loaded and its part-of-speech tags (user words' tags included) ready.

    jieba's own start reads its dictionary cache with marshal.load on a file (0.6 s of CPU) and
    jieba.posseg parses dict.txt again for the tags on import (0.3 s); a `qa ask` is a whole process,
    so both would be paid on every question. Everything is kept instead in one marshal file (see
    _cache_path), read in one go (about 0.35 s), and written by the first process that builds it.
    """
    import jieba

    jieba.setLogLevel(60)
    cache = _cache_path(jieba)
    try:  # only a file this user wrote (the temp folder is everyone's)
        freq, total, tags = marshal.loads(cache.read_bytes()) if _own(cache) else (None,) * 3
    except (OSError, ValueError, EOFError, TypeError):
        freq = None
    # only a jieba nobody has loaded words into yet is set from the cache, or written to it
    fresh = not jieba.dt.initialized and "jieba.posseg" not in sys.modules
    if freq is not None and fresh:
        jieba.dt.FREQ, jieba.dt.total, jieba.dt.initialized = freq, total, True
        jieba.dt.dictionary, dictionary = os.devnull, jieba.dt.dictionary  # posseg's import: no dict.txt parse
        try:
            import jieba.posseg
        finally:
            jieba.dt.dictionary = dictionary
        jieba.posseg.dt.word_tag_tab = tags
        _write_lexicon(jieba, cache)
        return jieba
    if USER_DICT.is_file():
        jieba.load_userdict(str(USER_DICT))
    import jieba.posseg

    # the user words' tags (拱墅区 ns, 许明 nr): jieba adds them only at the first posseg cut, so
    # word_tag would otherwise answer differently before and after one
    jieba.posseg.dt.makesure_userdict_loaded()
    if not fresh:
        return jieba
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=cache.name)
        with os.fdopen(fd, "wb") as f:
            f.write(marshal.dumps((jieba.dt.FREQ, jieba.dt.total, jieba.posseg.dt.word_tag_tab)))
        os.replace(tmp, cache)
    except OSError:  # a read-only or full temp folder: the next process builds it again
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        return jieba
    _write_lexicon(jieba, cache)
    return jieba


def _own(path: Path) -> bool:
    """Whether this user wrote the file: owners are POSIX's (Windows has no os.getuid, and its temp
    folder is the user's own)."""
    return not hasattr(os, "getuid") or path.stat().st_uid == os.getuid()


def _lexicon_path(cache: Path) -> Path:
    """The lexicon (qa/jieba_lexicon.py) of the dictionary in a marshal cache: named after it, so
    it changes with it."""
    return cache.with_name(cache.name.removesuffix(".cache") + ".lexicon.npz")


def _write_lexicon(jieba, cache: Path) -> None:
    """Write the lexicon of jieba's dictionary, as the cache holds it, unless it is there already:
    once per dictionary (about half a second)."""
    from qa import jieba_lexicon

    path = _lexicon_path(cache)
    if path.is_file():
        return
    try:
        jieba_lexicon.write(path, jieba.dt.FREQ, jieba.dt.total, jieba.posseg.dt.word_tag_tab)
    except OSError:  # a read-only or full temp folder: small jobs load the whole dictionary
        pass


def _lexicon():
    """The lexicon of jieba's dictionary (qa/jieba_lexicon.py) when it answers as the loaded
    dictionary would and loading it is still to come: None when jieba is loaded here already (or
    was changed), jieba_fast is installed (tokenize cuts with it), or no lexicon was written yet."""
    import jieba

    if _jieba.cache_info().currsize or jieba.dt.initialized or "jieba.posseg" in sys.modules:
        return None
    if _fast_tokenizer() is not None:
        return None
    path = _lexicon_path(_cache_path(jieba))
    try:
        if not _own(path):  # only a file this user wrote (the temp folder is everyone's)
            return None
        return _open_lexicon(path, path.stat().st_mtime_ns)
    except OSError:
        return None
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged: jieba loads whole and writes it again
        path.unlink(missing_ok=True)
        return None


@lru_cache(maxsize=1)
def _open_lexicon(path: Path, mtime_ns: int):
    from qa import jieba_lexicon

    return jieba_lexicon.Lexicon(path)


def few_cuts(texts):
    """(cut of the pieces between blocks, cut of a block) for these few texts from the lexicon of
    jieba's dictionary (`_lexicon`): only the entries their blocks can ask for are read, not the
    whole dictionary. None when there is no lexicon to use: `tokenize`'s own cuts then."""
    lexicon = _lexicon()
    if lexicon is None:
        return None
    import jieba

    from qa.jieba_cut import Cutter

    blocks = [piece for text in texts for piece in _pieces(text)[1::2]]
    cutter = Cutter.of(lexicon.entries(blocks), lexicon.total)
    jieba.setLogLevel(60)
    # the pieces between blocks hold none of jieba's block characters (BLOCK is its re_han_default):
    # jieba cuts them a character at a time, without its dictionary, which stays unloaded
    return jieba.lcut_for_search, cutter


def dictionary_tags(words) -> dict[str, str]:
    """jieba.posseg's tags (word_tag_tab, user words included) of those of these words that have
    one. A report or two are described without loading jieba (`_lexicon`); a process that asks
    for more (a whole corpus described) loads it once, which is quicker from then on."""
    global _tag_lookups
    _tag_lookups += 1
    lexicon = _lexicon() if _tag_lookups <= FEW_TAG_LOOKUPS else None
    if lexicon is not None and lexicon.has_tags:
        return lexicon.tags(words)
    tags = _jieba().posseg.dt.word_tag_tab
    return {w: t for w in words if (t := tags.get(w)) is not None}


FEW_TAG_LOOKUPS = 20  # reports a process describes with the lexicon before it loads jieba instead
_tag_lookups = 0


def _cache_path(jieba) -> Path:
    """The marshal file of jieba's prefix dictionary and tags with USER_DICT: its name changes with
    jieba's version, its dictionary file and the user dictionary's content ($QA_CACHE_DIR, else the
    temp folder, where jieba keeps its own cache)."""
    key = hashlib.sha256(f"{jieba.__version__} {sys.version_info[:2]}".encode())
    stat = (Path(jieba.__file__).parent / "dict.txt").stat()
    key.update(f"{stat.st_size} {stat.st_mtime_ns}".encode())
    key.update(USER_DICT.read_bytes() if USER_DICT.is_file() else b"")
    folder = Path(os.environ.get("QA_CACHE_DIR") or tempfile.gettempdir())
    return folder / f"qa-jieba-{key.hexdigest()[:16]}.cache"


def _cut_for_search():
    """jieba's search-mode segmentation, from jieba_fast when it is installed (`pip install
    jieba-fast`, the `fast` extra, not installed by `make setup`): the same algorithm and tables
    with its inner loops in C, in under half the time, and the same words on the bundled corpus
    (tests/test_lexical.py), though a few rare variant characters (鶏, 衞, 汚) are cut differently.
    It is given jieba's dictionary, user words included, rather than loading its own; again when
    words were added."""
    jieba = _jieba()
    fast = _fast_tokenizer()
    if fast is None:
        return jieba.lcut_for_search
    if fast.FREQ is not jieba.dt.FREQ or fast.total != jieba.dt.total:
        fast.FREQ, fast.total, fast.initialized = jieba.dt.FREQ, jieba.dt.total, True
    return fast.lcut_for_search


def _block_cut():
    """The search-mode cut of one run of BLOCK characters: jieba_fast's when installed, else
    qa.jieba_cut's (jieba's words in less time), made again when words were added to jieba."""
    global _cutter
    cut = _cut_for_search()
    if cut is not _jieba().lcut_for_search:
        return cut
    if _cutter is None or not _cutter.current(_jieba().dt):
        from qa.jieba_cut import Cutter

        _cutter = Cutter(_jieba().dt)
    return _cutter


_cutter = None


@lru_cache(maxsize=1)
def _fast_tokenizer():
    try:
        import jieba_fast
    except ImportError:
        return None
    return jieba_fast.Tokenizer()


def tokenize(text: str, blocks: dict | None = None, cuts=None) -> list[str]:
    """Search tokens of text: normalised, jieba search-mode segmented, without stopwords.

    jieba segments each run of BLOCK characters on its own; `blocks` keeps each run's tokens, so
    that texts sharing runs (a report's passages repeat its section path and the overlap sentence)
    segment each once: the same tokens as segmenting every text whole (tests/test_lexical.py).
    `cuts`: those of `few_cuts`, else jieba's with its whole dictionary."""
    blocks = {} if blocks is None else blocks
    cuts, out = cuts or (_cut_for_search(), _block_cut()), []
    for n, piece in enumerate(_pieces(text)):
        if piece:
            words = blocks.get(piece)
            if words is None:
                words = blocks[piece] = [w for w in cuts[n % 2](piece) if _kept(w)]
            out += words
    return out


def _pieces(text: str) -> list[str]:
    """The normalised text split with a group: the runs of BLOCK characters are the odd pieces,
    what lies between them the even ones."""
    return BLOCK.split(spelled(for_matching(text)))


def question_tokens(question: str) -> list[str]:
    """tokenize(question), made once for the retriever and the answerer, which both read it."""
    return list(_question_tokens(question))


@lru_cache(maxsize=64)
def _question_tokens(question: str) -> tuple[str, ...]:
    return tuple(tokenize(question))


def _kept(word: str) -> bool:
    """Whether a word is a search token (a letter or digit, not a stopword nor a question word),
    answered once per distinct word: a corpus repeats few words many times."""
    kept = _KEPT.get(word)
    if kept is None:
        if len(_KEPT) > 1_000_000:  # bounded, whatever the corpus
            _KEPT.clear()
        kept = _KEPT[word] = bool(TOKEN.search(word)) and word not in STOPWORDS and not QUESTION_PART.search(word)
    return kept


_KEPT: dict[str, bool] = {}


def segment(text: str) -> list[str]:
    """jieba's words of text, as written (no normalising, no stopwords dropped)."""
    return _jieba().lcut(text)


def word_tag(word: str) -> str | None:
    """jieba's part-of-speech tag of a dictionary word (ns place, nr person, nt organisation)."""
    return _jieba().posseg.dt.word_tag_tab.get(word)


def general_frequency(word: str) -> int:
    """How common a word is in general Chinese (jieba's dictionary counts); 0 when unknown."""
    return _jieba().dt.FREQ.get(word, 0)
