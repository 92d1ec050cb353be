"""Stage 1a: remove web-page and print noise from raw report text, before any other cleaning.

Reports arrive as users find them: scraped web pages (menus, breadcrumbs, share and QR lines,
"相关报道" link lists, "来源：" lines, site footers), newspaper pages (photo captions and credits,
"（下转第四版）" jumps) and Wikisource dumps (link texts split onto their own lines, licence
lines). None of it is report text, so none of it may be indexed or cited.

Each rule is a small function or pattern over lines; `strip_noise` applies them in order.
"""

from __future__ import annotations

import re
from collections import Counter

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
SPACES = " \t\u3000\xa0"

# Page menus: a line made only of menu words ("下载 打印 全屏 收藏", "【字号 大 中 小】", "【打印】【关闭】").
# Single characters (大 中 小, A+ A-) count only next to a menu word: a line "中" alone is text.
MENU_WORD = (r"下载|打印|全屏|收藏|分享|关闭|返回顶部|返回|打印本页|关闭窗口|字号|字体|放大|缩小|复制链接|朗读|"
             r"微信|微博|QQ空间|QQ好友|纠错|我要纠错|视力保护色|背景色")
MENU_ITEM = rf"[【\[［]?\s*(?:{MENU_WORD}|大|中|小|默认|[a-zA-Z]{{1,2}}[+-]?)\s*[】\]］]?[|｜/·:：\s]*"
MENU = re.compile(rf"^(?=.*(?:{MENU_WORD}))(?:{MENU_ITEM})+$")
BREADCRUMB = re.compile(r"^(?:当前位置|您现在的位置|您的位置|现在位置|所在位置)\s*[:：]|^首页\s*[>＞»›]|"
                        r"^(?:上一篇|下一篇|上一条|下一条)\s*[:：]")
# Page numbers left in text converted from print: "- 3 -", "— 12 —", "第3页 共20页".
PAGE_NUMBER = re.compile(r"^[-—－]\s*\d{1,3}\s*[-—－]$|^第\s*\d{1,3}\s*页(?:\s*[/，,]?\s*共\s*\d{1,3}\s*页)?$")
SHARE = re.compile(r"扫一扫|二维码|分享到|微信扫|在手机(?:上)?打开|手机版|打开微信|扫码")
RELATED = re.compile(r"^[【\[]?(?:相关报道|相关链接|相关新闻|相关阅读|延伸阅读|相关稿件|推荐阅读)[】\]]?\s*[:：]?")
# "来源：南方日报", "责任编辑：…", "发布时间：2025-01-20" — a short line naming where the page came from.
SOURCE_LINE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*)?"
                         r"(?:来源|來源|稿源|信息来源|文章来源|责任编辑|責任編輯|编辑|編輯|审核|校对|发布时间|发布日期|"
                         r"发布机构|点击数|点击量|阅读量|阅读次数|浏览次数|索引号|主题分类|发文机关|成文日期|文号)\s*[:：]")
# Photo credits: "(区委宣传部 供图)", "（新华社记者 李涛 摄）", "图片来源：…".
CREDIT = re.compile(r"^[（(]?[^。！？]{0,30}(?:供图|摄影?|图片来源[:：].*|图/[^。]*)[）)]?$")
# Newspaper jumps, inside or on their own line: "（下转第四版）", "(紧接4版)", "（上接第1版）".
JUMP = re.compile(r"[（(]\s*(?:下转|上接|紧接|转|接|续)第?\s*[0-9一二三四五六七八九十０-９]{1,3}\s*版\s*[)）]")
# Site footers and Wikisource licence boilerplate.
FOOTER = re.compile(r"版权所有|Copyright|©|ICP备|网站标识码|公网安备|主办单位|承办单位|联系我们|网站地图|"
                    r"^Public domain$|^(?:true|false)$|公有领域|Wikisource|维基文库|CC[- ]BY|^↑|^(?:主办|承办|技术支持)\s*[:：]|"
                    r"^第\s*\d{1,3}\s*版\b|^\d{4}年\d{1,2}月\d{1,2}日\s*星期.\s*第?\s*\d+\s*版", re.I)
LICENCE = re.compile(r"^本作品|公有领域|维基文库|Wikisource|著作权法》第五条|^Public domain$")
# In a line this long (a dump that lost its line breaks) the licence notes are only its tail,
# from the sentence that starts them (in its last LONG_LINE characters): the line is cut there, not dropped.
LONG_LINE = 1000
LICENCE_INLINE = re.compile(r"本作品|公有领域|维基文库|Wikisource|著作权法》第五条|Public domain")
NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十]{1,3}[)）]|\d{1,2}[、．.](?!\d)|第[一二三四五六七八九十]+[部章节条])")
# Lines of a report's head stay apart: "在…会议上" / "(2017年2月9日)" / "章 燕".
HEAD_PART = re.compile(r"(?:会议|大会|全会)上(?:的(?:报告|讲话))?\n|\n[(（]\d{4}年[^\n]*[)）]$")
TERMINAL = set("。！？；：…!?;:”’」』）)")
MAX_NOISE_CHARS = 60


def strip_noise(text: str) -> str:
    """The text without noise lines; link texts split onto their own lines rejoined."""
    return strip_noise_pages([text])[0]


def strip_noise_pages(pages: list[str]) -> list[str]:
    """strip_noise for the pages of one file: a footer is a line repeated across all of them."""
    paged = [_rule_lines(page) for page in pages]
    repeated = _repeated_short_lines([ln for lines in paged for ln in lines])
    blank_separated = _blank_separated([ln for lines in paged for ln in lines])
    if paged:
        paged[-1] = _cut_licence_tail(paged[-1])
    if blank_separated:
        paged = [_rejoin_split_links(lines, repeated) for lines in paged]
    return ["\n".join(ln for ln in lines if not _noise_line(ln.strip(SPACES), repeated)) for lines in paged]


def _cut_licence_tail(lines: list[str]) -> list[str]:
    """Wikisource ends a text with its licence notes ("本作品…属于公有领域。"), link texts split off
    as everywhere there: drop from the first paragraph (lines between blank lines) that says so;
    in an over-long line, only its tail from the sentence that says so."""
    start = None  # first line of the current paragraph
    for i in range(len(lines) * 2 // 3, len(lines)):
        if not lines[i].strip(SPACES):
            start = None
            continue
        start = i if start is None else start
        if len(lines[i]) > LONG_LINE:
            if m := LICENCE_INLINE.search(lines[i], len(lines[i]) - LONG_LINE):
                head = lines[i][:m.start()]
                return lines[:i] + [head[:max(head.rfind(c) for c in "。！？!?") + 1]]
        elif LICENCE.search(lines[i]):
            return lines[:start]
    return lines


def _rule_lines(text: str) -> list[str]:
    # a line that held only a zero-width space is no paragraph break ("打\n\u200b\n造")
    lines = [ln.translate(INVISIBLE) for ln in text.split("\n")
             if not (ln.translate(INVISIBLE).strip(SPACES) == "" and ln.translate(INVISIBLE) != ln)]
    lines = [JUMP.sub("", ln) for ln in lines]
    return _drop_credits_and_captions(_drop_related_blocks(lines))


def _noise_line(line: str, repeated: set[str]) -> bool:
    if not line or len(line) > MAX_NOISE_CHARS * 2:
        return False
    if MENU.match(line) or BREADCRUMB.match(line) or FOOTER.search(line) or PAGE_NUMBER.match(line):
        return True
    if len(line) <= MAX_NOISE_CHARS and (SHARE.search(line) or SOURCE_LINE.match(line)) and "。" not in line:
        return True
    return line in repeated


def _repeated_short_lines(lines: list[str]) -> set[str]:
    """Page footers repeat on every page: a short line with a digit or page mark seen three times or more."""
    counts = Counter(ln.strip(SPACES) for ln in lines)
    return {ln for ln, n in counts.items() if n >= 3 and 0 < len(ln) <= 40
            and re.search(r"[0-9０-９]", ln) and not re.search(r"[。！？；]", ln)
            and not re.match(r"^[（(]?[一二三四五六七八九十0-9]+[、.．)）]", ln)}


def _drop_related_blocks(lines: list[str]) -> list[str]:
    """"相关报道：" and the link titles under it (short lines without sentence punctuation)."""
    out, skipping = [], False
    for ln in lines:
        s = ln.strip(SPACES)
        if RELATED.match(s) and len(s) <= MAX_NOISE_CHARS:
            skipping = True
            continue
        if skipping and (not s or (len(s) <= MAX_NOISE_CHARS and not re.search(r"[。！？]$", s))):
            continue
        skipping = False
        out.append(ln)
    return out


def _drop_credits_and_captions(lines: list[str]) -> list[str]:
    """A photo credit, and the caption line right above it (short, no sentence end)."""
    drop = set()
    for i, ln in enumerate(lines):
        s = ln.strip(SPACES)
        if s and len(s) <= 40 and CREDIT.match(s):
            drop.add(i)
            j = i - 1
            while j >= 0 and not lines[j].strip(SPACES):
                j -= 1
            caption = lines[j].strip(SPACES) if j >= 0 else ""
            if caption and len(caption) <= MAX_NOISE_CHARS and caption[-1] not in "。！？；：" \
                    and not re.match(r"^[一二三四五六七八九十]+、|^[（(][一二三四五六七八九十]+[)）]", caption):
                drop.add(j)
    return [ln for i, ln in enumerate(lines) if i not in drop]


def _blank_separated(lines: list[str]) -> bool:
    """Paragraphs set apart by blank lines (Wikisource, many web pages), not one paragraph a line."""
    blank = sum(1 for ln in lines if not ln.strip(SPACES))
    return len(lines) >= 10 and blank >= 0.3 * len(lines)


def _rejoin_split_links(lines: list[str], repeated: set[str]) -> list[str]:
    """In blank-separated text, lines of one paragraph were cut at link texts: join them back.

    A line that ends without sentence punctuation is continued by the next line of the same block
    ("在聽了劉少奇同志" / "關於憲法草案的報告" / "並進行了…"). Lines after a sentence end stay apart
    (a bold lead-in followed by its paragraph), and so do noise lines (a menu, a breadcrumb over the
    title) and numbered headings ("一、…" over its first paragraph), which no link cut.
    """
    out: list[str] = []
    for ln in lines:
        s = ln.strip(SPACES)
        prev = out[-1].rstrip(SPACES) if out else ""
        if s and prev.strip(SPACES) and prev[-1] not in TERMINAL and not HEAD_PART.search(f"{prev}\n{s}") \
                and not any(_noise_line(x.strip(SPACES), repeated) or NUMBERED.match(x.strip(SPACES)) for x in (prev, s)):
            out[-1] = prev + s
        else:
            out.append(ln)
    return out
