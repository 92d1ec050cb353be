import re

import pytest

from qa import evalreport


def result(acc_bm25=0.5, acc_hybrid=0.75):
    def block(acc):
        overall = {"questions": 3, "answerable": 2, "unanswerable": 1, "hit@1": 0.5, "hit@5": 1.0,
                   "recall@1": 0.5, "recall@5": 1.0, "answer_accuracy": acc, "median_answer_chars": 54.0,
                   "refused_unanswerable": 1.0, "citation_precision": None}
        return {"overall": overall,
                "by_type": {"number": {"questions": 2, "hit@1": 0.5, "answer_accuracy": acc},
                            "unanswerable": {"questions": 1, "refused_unanswerable": 1.0}}}
    return {"dataset": "tiny.jsonl", "questions": 3, "ks": [1, 5], "seconds": 1.5,
            "settings": {"index": "index", "model": "m", "top_k": 5, "chunk_size": 400, "dense_weight": 0.05,
                         "min_support": 0.3},
            "modes": {"bm25": block(acc_bm25), "hybrid": block(acc_hybrid)}}


@pytest.mark.parametrize("value, text", [(None, "–"), (0.5, "0.500"), (54.0, "54"), (12.34, "12.3"), (7, "7")])
def test_fmt(value, text):
    assert evalreport.fmt(value) == text


def test_overall_table_puts_modes_side_by_side_and_skips_empty_rows():
    table = evalreport.overall_table(result())
    lines = table.splitlines()
    assert lines[0] == "| metric | bm25 | hybrid |"
    assert "| answer accuracy (gold in answer) | 0.500 | 0.750 |" in lines
    assert "| median answer length (chars) | 54 | 54 |" in lines
    assert not any("citation precision" in line for line in lines)  # no values at all: no row


def test_type_table_and_render():
    table = evalreport.type_table(result(), "bm25")
    assert "| number | 2 | 0.500 | 0.500 | – |" in table
    assert "| unanswerable | 1 | – | – | 1.000 |" in table
    report = evalreport.render(result())
    assert report.startswith("# Evaluation report") and "tiny.jsonl (3 questions)" in report
    assert "## By question type — hybrid" in report and "recall_at_k.png" in report


def test_compare_prints_the_difference():
    table = evalreport.compare(result(0.5), result(0.5, 0.8))
    assert "| hybrid | answer accuracy (gold in answer) | 0.750 | 0.800 | +0.050 |" in table
    assert "| bm25 | answer accuracy (gold in answer) | 0.500 | 0.500 | +0.000 |" in table


def test_compare_needs_a_common_mode():
    other = result()
    other["modes"] = {"dense": other["modes"].pop("bm25")}
    b = result()
    b["modes"].pop("bm25"), b["modes"].pop("hybrid")
    with pytest.raises(ValueError, match="no retrieval mode in common"):
        evalreport.compare(other, b)


def test_plots_fall_back_to_english_labels_without_a_cjk_font(tmp_path, monkeypatch):
    monkeypatch.setattr(evalreport, "cjk_fonts", lambda: [])
    evalreport.plot_by_type(result(), tmp_path / "by_type.png")
    evalreport.plot_recall(result(), tmp_path / "recall.png")
    assert (tmp_path / "by_type.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "recall.png").read_bytes()[:4] == b"\x89PNG"
    assert evalreport._figure()[1] is False


def test_cjk_font_is_a_name_or_none():
    font = evalreport.cjk_font()
    assert font is None or isinstance(font, str) and font


@pytest.fixture
def chinese_only_font_listed_first(tmp_path):
    """A font with Chinese glyphs and no Latin letters or digits (like Droid Sans Fallback), listed
    before every other font, made here from an installed CJK font; skipped when there is none."""
    import shutil

    from fontTools import subset
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager as fm
    from matplotlib.ft2font import FT2Font

    evalreport.cjk_fonts()  # adds a CJK font installed after matplotlib listed its fonts
    source = next((f.fname for f in fm.fontManager.ttflist if any(f.name.startswith(w) for w in evalreport.CJK_FONTS)
                   and ord("中") in FT2Font(f.fname).get_charmap()), None)
    if source is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    font = TTFont(source, fontNumber=0)
    chinese = [c for c in font.getBestCmap() if 0x4E00 <= c <= 0x9FFF or 0x3000 <= c <= 0x303F or 0xFF00 <= c <= 0xFFEF]
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chinese)
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "Droid Sans Fallback"
    path = tmp_path / "chinese-only.ttf"
    font.save(str(path))
    before = list(fm.fontManager.ttflist)
    fm.fontManager.addfont(str(path))
    fm.fontManager.ttflist.insert(0, fm.fontManager.ttflist.pop())
    fm._get_font.cache_clear()
    yield "Droid Sans Fallback"
    fm.fontManager.ttflist[:] = before
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_plot_labels_have_every_glyph_when_a_chinese_only_font_comes_first(tmp_path, chinese_only_font_listed_first):
    import warnings

    fonts = evalreport.cjk_fonts()
    assert fonts.index("DejaVu Sans") < fonts.index(chinese_only_font_listed_first)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evalreport.plot_recall(result(), tmp_path / "recall.png")
        evalreport.plot_by_type(result(), tmp_path / "by_type.png")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    assert evalreport._figure()[1] is True  # Chinese labels


def test_render_without_plots_for_the_terminal_and_app():
    text = evalreport.render(result(), plots=False)
    assert "## Overall" in text and "png" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plot_words_follow_the_language(tmp_path, monkeypatch, lang):
    """The app's plots say their title and axes in the page's language (English: no Chinese at all)."""
    from matplotlib.axes import Axes

    said = []
    for name in ("set_title", "set_xlabel", "set_ylabel"):
        original = getattr(Axes, name)
        monkeypatch.setattr(Axes, name, lambda self, text, *a, _f=original, **k: (said.append(text), _f(self, text, *a, **k))[1])
    recall, by_type = evalreport.plots(result(), tmp_path, lang)
    assert recall.name == f"recall_at_k.{lang}.png" and by_type.exists()
    chinese = [s for s in said if re.search(r"[\u4e00-\u9fff]", s)]
    if lang == "en":
        assert said and not chinese
    elif evalreport.cjk_fonts():
        assert len(chinese) >= 3
