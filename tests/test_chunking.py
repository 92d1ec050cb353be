import pytest

from qa.chunking import chunk, passage_id, sentence_spans
from qa.types import Document

SECTIONED = ("一、总体要求\n（一）加快发展\n" + "全区经济稳步增长。" * 10 + "\n（二）改善民生\n"
             + "城中村改造完成拆迁和整治5500户。" * 3 + "\n二、下一步工作\n明年继续努力。")


def doc(text: str, doc_id: str = "d") -> Document:
    return Document(doc_id=doc_id, source="s.txt", text=text, title="t")


def pieces(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize("text, expected", [
    ("第一句。第二句！第三句？第四句；第五句……第六句", ["第一句。", "第二句！", "第三句？", "第四句；", "第五句……", "第六句"]),
    ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
    ("（见附件。）下一句。", ["（见附件。）", "下一句。"]),
    ("Yes! Really? ok...", ["Yes!", " Really?", " ok..."]),
    ("第一行\n第二行。", ["第一行", "第二行。"]),
    ("", []),
    ("\n\n", []),
    ("字", ["字"]),
])
def test_sentence_spans(text, expected):
    assert pieces(text) == expected


def test_sentence_spans_of_a_range_are_absolute():
    text = "前言。正文第一句。正文第二句。"
    spans = sentence_spans(text, 3, len(text))
    assert [text[a:b] for a, b in spans] == ["正文第一句。", "正文第二句。"]
    assert spans[0][0] == 3


def check_passages(d: Document, size: int, overlap: int = 1):
    passages = chunk(d, size, overlap)
    for p in passages:
        assert p.text == d.text[p.start:p.end]  # the core invariant: offsets point at the text
        assert 0 < len(p.text) <= size
        assert p.doc_id == d.doc_id
        assert p.passage_id == passage_id(d.doc_id, p.start, p.end, p.text)
    starts = [p.start for p in passages]
    assert starts == sorted(starts)
    assert len({p.passage_id for p in passages}) == len(passages)
    return passages


def test_passages_invariants_and_sections():
    passages = check_passages(doc(SECTIONED), size=60)
    assert passages[0].text.startswith("一、总体要求\n（一）加快发展\n")  # consecutive headings stay together
    assert passages[0].section == "一、总体要求 > （一）加快发展"
    starts = {p.text.split("\n")[0]: p for p in passages}
    assert starts["（二）改善民生"].section == "一、总体要求 > （二）改善民生"  # a sibling replaces its level
    assert starts["二、下一步工作"].section == "二、下一步工作"  # a higher level clears the path
    assert passages[-1].text == "二、下一步工作\n明年继续努力。"


def test_a_heading_starts_a_new_passage():
    passages = chunk(doc(SECTIONED), size=400)
    assert [p.text.split("\n")[0] for p in passages] == ["一、总体要求", "（二）改善民生", "二、下一步工作"]


def test_overlap_repeats_the_last_sentence():
    text = "".join(f"第{i}句话讲的是全区的工作。" for i in range(10))
    passages = check_passages(doc(text), size=50, overlap=1)
    assert len(passages) > 2
    for prev, nxt in zip(passages, passages[1:]):
        last = pieces(prev.text)[-1]
        assert nxt.text.startswith(last)
        assert nxt.start == prev.end - len(last)


def test_no_overlap():
    text = "".join(f"第{i}句话讲的是全区的工作。" for i in range(10))
    passages = check_passages(doc(text), size=50, overlap=0)
    assert all(a.end <= b.start for a, b in zip(passages, passages[1:]))
    assert "".join(p.text for p in passages) == text


def test_ids_are_stable_and_follow_the_text():
    first = chunk(doc(SECTIONED), 60)
    again = chunk(doc(SECTIONED), 60)
    assert [p.passage_id for p in first] == [p.passage_id for p in again]
    changed = chunk(doc(SECTIONED.replace("5500户", "6600户")), 60)
    assert {p.passage_id for p in changed} != {p.passage_id for p in first}
    # passages before the change keep their ids
    assert changed[0].passage_id == first[0].passage_id
    other_doc = chunk(doc(SECTIONED, doc_id="e"), 60)
    assert not {p.passage_id for p in other_doc} & {p.passage_id for p in first}


@pytest.mark.parametrize("text", [
    "字",
    "GDP增长8%，市民点赞👍🎉！New jobs: 12,000个。Café开业。",
    "全區經濟穩步增長，城中村改造完成拆遷和整治5500戶。一、總體要求\n（一）加快發展\n繼續努力。",
    "段落一。\n\n\n段落二。\n",
    "  前后有空格。  ",
], ids=["one-char", "mixed-emoji", "traditional", "blank-lines", "spaces"])
def test_chunk_edge_cases(text):
    passages = check_passages(doc(text), size=50)
    assert passages
    assert "".join(p.text for p in chunk(doc(text), 50, 0)).replace("\n", "").strip() \
        == text.replace("\n", "").strip()


def test_empty_document_has_no_passages():
    assert chunk(doc(""), 50) == []
    assert chunk(doc("\n \n"), 50) == []


def test_text_without_punctuation_is_cut_at_size():
    text = "全区经济稳步增长" * 40  # 320 characters, no sentence end, no line break
    passages = check_passages(doc(text), size=100)
    assert [len(p.text) for p in passages] == [100, 100, 100, 20]
    assert "".join(p.text for p in passages) == text


def test_sentence_longer_than_size_is_cut():
    long_sentence = "全区经济稳步增长，" * 20 + "成效明显。"
    passages = check_passages(doc("短句。" + long_sentence + "下一句。"), size=60)
    assert max(len(p.text) for p in passages) == 60


def test_large_document():
    para = ("全区上下坚持稳中求进工作总基调，统筹推进疫情防控和经济社会发展。城中村改造完成拆迁和整治5500户！"
            "新建安置房100万平方米；地铁5号线站点建设全面开工……")
    lines = []
    for i in range(4000):
        if i % 50 == 0:
            lines.append(f"{'一二三四五六七八九十'[i // 50 % 10]}、第{i}部分工作")
        lines.append(para)
    text = "\n".join(lines)
    assert len(text.encode("utf-8")) > 800_000
    passages = check_passages(doc(text), size=400)
    assert len(passages) > 500
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    # every non-newline character is in some passage
    assert all(i in covered for i, c in enumerate(text) if c != "\n")


def test_passages_know_their_pages():
    text = "一、总体要求\n" + "全区经济稳步增长。" * 10 + "\n" + "城中村改造完成拆迁和整治5500户。" * 10
    second_page = text.index("城中村")
    d = Document(doc_id="d", source="s.pdf", text=text, title="t", pages=[0, second_page], first_page=5)
    passages = chunk(d, size=60, overlap=0)
    for p in passages:
        assert p.page == (5 if p.start < second_page else 6)
        assert p.last_page == (5 if p.end <= second_page else 6)
    assert {p.page_label for p in passages} >= {"第5页", "第6页"}


@pytest.mark.parametrize("page, last_page, label", [(None, None, ""), (3, 3, "第3页"), (3, 4, "第3–4页")])
def test_page_label(page, last_page, label):
    from qa.types import Passage

    assert Passage("p", "d", "x", 0, 1, page=page, last_page=last_page).page_label == label


def test_passages_of_a_text_file_have_no_page():
    assert all(p.page is None for p in chunk(doc(SECTIONED)))


def test_a_one_line_dump_keeps_the_sections_of_its_inline_headings():
    from qa.cleaning import clean

    review, plan = "全省生产总值增长5.8%，推动经济持续回升向好。" * 90, "今年全省生产总值增长5%左右。" * 30
    passages = chunk(doc(clean(f"各位代表：现在报告工作。一、2024年工作回顾过去一年，{review}二、2025年目标任务{plan}")))
    assert {p.section[:10] for p in passages} == {"", "一、2024年工作回", "二、2025年目标任"}
    assert all(p.section.startswith("二、2025") for p in passages if "5%左右" in p.text)
