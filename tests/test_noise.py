"""Each noise rule on its own small sample, then on the real reports of ../shared when present."""

from pathlib import Path

import pytest

from qa.cleaning import clean, strip_pinyin
from qa.noise import strip_noise, strip_noise_pages

BODY = "现在，我代表省人民政府向大会报告工作，请予审议。"


@pytest.mark.parametrize("noise", [
    "下载 打印 全屏 收藏",
    "【字号 大 中 小】",
    "【打印】【关闭】",
    "当前位置：首页 > 政务公开 > 政府工作报告",
    "首页 > 新闻中心",
    "扫一扫在手机打开当前页",
    "分享到：",
    "来源：南方日报",
    "来源 : 南方日报",
    "责任编辑：王五",
    "2024-01-23 09:30 来源：解放日报",
    "索引号：000014349/2024-00012",
    "【字体：大 中 小】",
    "分享到：微信 微博 QQ空间",
    "打印本页 关闭窗口",
    "微信 微博 QQ空间",
    "【我要纠错】",
    "上一篇：省政府召开常务会议",
    "- 3 -",
    "— 12 —",
    "第3页 共20页",
    "主办：广东省人民政府办公厅",
    "阅读量：1024",
    "版权所有：广东省人民政府办公厅",
    "粤ICP备05070829号",
    "Public domain",
    "false",
])
def test_noise_line_is_dropped(noise):
    assert clean(f"{noise}\n{BODY}") == BODY


@pytest.mark.parametrize("text", ["", "中", "大力发展数字经济。", "2025年广东省政府工作报告", "各位代表！",
                                  "附件1", "——经济运行持续向好。", "3", "第三，坚持稳中求进。",
                                  "一、2024年工作回顾", "😀 mixed 中英 text。"])
def test_ordinary_lines_are_kept(text):
    assert strip_noise(text) == text


def test_related_reports_block_is_dropped_up_to_the_next_paragraph():
    text = f"{BODY}\n相关报道：\n广东省两会开幕\n省长作政府工作报告\n{BODY}"
    assert strip_noise(text).split("\n") == [BODY, BODY]


def test_photo_credit_and_its_caption_are_dropped():
    text = ("加强党对政协工作的领导,支持区政协履行政治协商、民主监督、参政议政职能,巩固和壮大最广泛的爱国统一战线,积极为\n\n"
            "2016年12月28日，中国共产党杭州市拱墅区第七次代表大会\n\n(区委宣传部 供图)\n\n"
            "民主党派、工商联、无党派人士发挥作用搭建平台。")
    assert clean(text) == ("加强党对政协工作的领导,支持区政协履行政治协商、民主监督、参政议政职能,巩固和壮大最广泛的爱国统一战线,积极为"
                           "民主党派、工商联、无党派人士发挥作用搭建平台。")


def test_photo_credit_keeps_a_heading_above_it():
    assert strip_noise("一、主要工作\n（新华社记者 李涛 摄）").split("\n") == ["一、主要工作"]


@pytest.mark.parametrize("jump", ["（下转第四版）", "(紧接4版)", "（上接第1版）", "(转2版)"])
def test_newspaper_jump_is_removed_inside_a_line(jump):
    assert clean(f"{jump}科学优化城市绿化空间。") == "科学优化城市绿化空间。"


def test_repeated_page_footer_is_dropped_from_every_page():
    pages = [f"{BODY}\n2017年1月5日 星期四 第3版", f"{BODY}\n杭州日报 第3版", f"{BODY}\n杭州日报 第3版",
             f"{BODY}\n杭州日报 第3版"]
    assert strip_noise_pages(pages) == [BODY] * 4


def test_repeated_heading_without_digits_is_kept():
    text = "\n".join(["政府工作报告", BODY] * 3)
    assert strip_noise(text) == text


def test_wikisource_link_texts_are_rejoined_not_dropped():
    text = ("各位代表：\n\n我們第一届全國人民代表大會第一次會議，在聽了劉少奇同志\n關於憲法草案的報告\n"
            "並進行了三天的討論以後，通過了\n中華人民共和國憲法\n，接着，又通過了幾個重要的法律。\n\n"
            + "\n\n".join([BODY] * 4) + "\n\n政府工作报\n告\n\n打\n\u200b\n造\n\n"
            "本作品来自中国共产党文件，属于\n公有领域\n。\n\nPublic domain\nfalse")
    assert clean(text).split("\n") == [
        "各位代表：",
        "我們第一届全國人民代表大會第一次會議，在聽了劉少奇同志關於憲法草案的報告並進行了三天的討論以後，"
        "通過了中華人民共和國憲法，接着，又通過了幾個重要的法律。",
        *[BODY] * 4, "政府工作报告", "打造"]


def test_a_one_line_wikisource_dump_loses_its_licence_tail_not_its_text():
    report = "各位代表：" + BODY * 60 + "一定能够把事业不断推向前进，从胜利走向更大的胜利!"
    licence = ("本作品是中华人民共和国的法律、法规，国家机关的决议。根据《中华人民共和国著作权法》第五条第一项，"
               "本作品不适用于该法，属于公有领域。注：中文维基文库社群认为，公务演讲不总是具有立法性质。Public domainfalse")
    assert strip_noise(report + licence) == report
    assert strip_noise("公有领域" + report) == "公有领域" + report  # only in its tail


def test_blank_separated_web_page_keeps_its_title_and_headings():
    text = "\n\n".join(["下载\n打印\n全屏\n收藏", "当前位置：首页 > 要闻\n2025年上海市政府工作报告", "各位代表：",
                        "一、2024年工作回顾\n过去一年，全市经济稳中有进。", BODY, BODY, "扫一扫在手机打开当前页"])
    assert clean(text).split("\n") == ["2025年上海市政府工作报告", "各位代表：", "一、2024年工作回顾",
                                        "过去一年，全市经济稳中有进。", BODY, BODY]


def test_one_paragraph_a_line_is_not_rejoined():
    text = "一、2024年工作回顾\n过去一年，是安徽发展史上具有重要里程碑意义的一年\n二、2025年工作安排"
    assert strip_noise(text) == text


def test_appendix_heading_leads_the_section_path():
    from qa.chunking import chunk
    from qa.types import Document

    text = clean(f"一、工作回顾\n{BODY}\n附件2 名词解释\n1.分线管理：货物“一线”放开、“二线”管住。")
    sections = [p.section for p in chunk(Document("d", "d.txt", text, "t"), size=40, overlap=0)]
    assert sections[-1].startswith("附件2 名词解释 > 1.分线管理")


SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NOISE_MARKERS = ["打印", "当前位置", "扫一扫", "相关报道", "来源：", "来源 :", "Public domain", "公有领域", "维基文库",
                 "供图", "下转", "紧接", "【字号", "↑"]


@pytest.mark.parametrize("folder", ["reports", "corpus"])
def test_shared_reports_lose_their_noise_and_keep_their_text(folder):
    files = sorted((SHARED / folder).glob("*.txt"))
    if not files:
        pytest.skip(f"{SHARED / folder} not present")
    for path in files:
        raw = path.read_text(encoding="utf-8")
        lines = clean(raw).split("\n")
        noisy = [ln for ln in lines if len(ln) < 60 and any(m in ln for m in NOISE_MARKERS)
                 or ln in ("false", "Public domain")]
        assert not noisy, f"{path.name}: {noisy[:3]}"
        kept = sum(len(ln) for ln in lines) / max(1, len("".join(strip_pinyin(raw).split())))
        assert kept > 0.9, f"{path.name}: only {kept:.0%} of the text kept"
