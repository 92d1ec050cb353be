"""Numbers as Chinese reports write them: digits, Chinese numerals and both mixed, with units.

parse_number reads one numeral; find_quantities finds every number mention with its unit,
qualifier (左右, 以上, 约 …) and direction (增长 vs 下降); fold_numerals writes Chinese-numeral
quantities in digits for search; same_quantity says whether two written forms are one number.
Matching runs on a one-to-one character fold of the text (full-width to half-width; traditional
to simplified for the characters of numbers, units and cues), so offsets are the original's.

A run of Chinese numerals is a number only when a unit or counter follows it (四十二个, 十一年)
or when it has several characters with a place value (两千, 二十): 统一, 一流, 三农, 十分, 四川
stay words; so do 一度, 千家万户, 上亿市场 … (_WORDS, _NOT_BEFORE). 第 + numeral is kind
"ordinal" (第一, 第十四届). Two Chinese digits in a row (五一, 七八个) are never a quantity, four
only as a year (一九九七年). Known gaps: 4万5千 and 三五年 / 一两个 (approximate pairs) are not
read; 五千米 is 5000 米 while 5千米 is 5 公里.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_FOLD = str.maketrans(
    "０１２３４５６７８９％．：－～　\u00a0○萬億兩點個項條戶處屆噸歲畝臺張間隻場輛級層種類號週時鐘裡長減漲內約餘"
    "區縣鄉鎮國隊塊輪棟頃標準歐統單專劃歸過擴縮壹貳贰參叁肆伍陸陆柒捌玖拾佰仟",
    "0123456789%.:-~  〇万亿两点个项条户处届吨岁亩台张间只场辆级层种类号周时钟里长减涨内约余"
    "区县乡镇国队块轮栋顷标准欧统单专划归过扩缩一二二三三四五六六七八九十百千",
)
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_PLACES = {"十": 10, "百": 100, "千": 1000}
_MAGS = {"": 1, "万": 1e4, "亿": 1e8, "万亿": 1e12, "千亿": 1e11, "百亿": 1e10, "千万": 1e7, "百万": 1e6}
_UNIT_ALIAS = {"百分点": "个百分点", "千米": "公里", "公斤": "千克"}
# Counters and units, as they read after _FOLD (成: 七成 = 70%)
_UNITS = ("% ‰ 个百分点 百分点 元 美元 欧元 港元 日元 个 名 人次 人 户 家 所 条 项 件 次 周年 年代 年 倍 座 岁 天 "
          "个月 月 周 小时 分钟 秒 平方公里 公里 千米 平方米 立方米 米 亩 公顷 吨 千克 公斤 斤 千瓦时 千瓦 度 辆 台 "
          "套 张 间 处 栋 幢 只 头 棵 株 位 批 届 轮 场 篇 部 本 种 类 级 层 支 队 片 块 枚 架 艘 份 方面 大类 "
          "省 市 县 区 镇 乡 村 国 季度 标准箱 床 例 号 成 微克 毫克 毫米 厘米 毫升 兆瓦").split()
# Words in which a numeral character is not a number although a counter may follow (统一部署,
# 一度, 千家万户); the scan consumes them before a numeral can start inside them.
_WORDS = ("统一 唯一 之一 同一 单一 划一 专一 合一 归一 逐一 不一 万一 一一 一度 一方面 一成不变 百年 千年 "
          "万年 千家万户 百家 千家 万家 七台河 五台山 二元 一元化 四周 四人帮 三次产业 千头万绪 成千上万 千乡万村").split()
_BARE = {"千万", "万万", "万一", "亿万"}  # as words: 千万 = "by all means"; never a number unless a unit follows

_CNRUN = r"[零〇一二三四五六七八九两十百千万亿](?:[零〇一二三四五六七八九两十百千万亿]|点(?=[零〇一二三四五六七八九两]))*"
_DIG = r"(?<![A-Za-z0-9.])(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
# digits spaced out by a scraper (1 9 9 7 年); bounded, so a long run without a unit stays linear
_SPACED = r"(?<![A-Za-z0-9.])(?:[0-9](?: ?[0-9]){0,11} ?\. ?[0-9](?: ?[0-9]){0,7}|[0-9](?: [0-9]){1,11})"
# a one-character unit that begins a common word is not a unit there: 上亿市场, 一部分, 七成为
_NOT_BEFORE = {"部": "分署", "市": "场", "国": "家", "家": "庭", "区": "域", "位": "置", "所": "以有", "号": "召",
               "天": "然", "成": "为立功效果就长本员熟"}
_UNIT = "|".join(re.escape(u) + (f"(?![{_NOT_BEFORE[u]}])" if u in _NOT_BEFORE else "")
                 for u in sorted(_UNITS, key=len, reverse=True))
_MAG = "万亿|千亿|百亿|亿|千万|百万|万"
_MO = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]"
_DD = r"3[01]|[12][0-9]|0?[1-9]|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九]"


def _atom(p: str) -> str:
    num = rf"(?:{_SPACED})(?= ?(?:多|余)?(?:{_MAG}|{_UNIT}))|{_DIG}|{_CNRUN}"
    unit = (rf"(?: ?(?P<au>{_UNIT}))?" if p == "a" else rf"(?(au) ?(?P=au)|(?: ?(?P<bu>{_UNIT}))?)")
    return rf"(?P<{p}n>{num})(?P<{p}q>多|余)?(?: ?(?P<{p}m>{_MAG}))?(?P<{p}q2>多|余)?{unit}"


_RX = re.compile(
    "(?P<x>(?:" + "|".join(sorted(_WORDS, key=len, reverse=True)) + ")(?![〇零一二三四五六七八九]{3}年))"  # 同一九四九年
    r"|(?P<pq>(?<![签节制契预])约|(?<!最)近|超过|超|逾)?(?:"
    rf"(?<![0-9.])(?P<y>[0-9]{{4}}|[〇零一二三四五六七八九]{{4}}) ?年 ?(?P<mo>{_MO}) ?月(?: ?(?P<d>{_DD}) ?[日号])?"
    rf"|(?<![0-9.])(?P<mo2>{_MO}) ?月 ?(?P<d2>{_DD}) ?[日号]"
    r"|(?P<ratio>(?<![A-Za-z0-9.])[0-9]+(?:\.[0-9]+)?(?: ?: ?[0-9]+(?:\.[0-9]+)?)+)"
    rf"|(?P<den>{_DIG}|{_CNRUN})分之(?P<nu>{_DIG}|{_CNRUN})"
    rf"|第 ?(?P<on>{_DIG}|{_CNRUN})(?P<ou>{_UNIT})?"
    rf"|{_atom('a')}(?: ?(?:—{{1,2}}|–|-|~|至|到) ?{_atom('b')})?(?:/(?:{_UNIT}))?"  # 778元/月, 12微克/立方米
    r")(?P<sq>左右|以上|以内|以下)?"
)
# Python's re scans a pattern that opens with alternatives position by position; jumping to the
# characters a match can start with first makes the scan several times faster.
_START = re.compile("[0-9零〇一二三四五六七八九两十百千万亿第约近超逾" + "".join(sorted({w[0] for w in _WORDS})) + "]")
_FOLDABLE = re.compile("[, 零〇一二三四五六七八九两十百千]")
# What any rewrite of fold_numerals needs in the folded text: a Chinese numeral (四十二个, 二〇二一年, 万 %,
# 百分之十), an ordinal (第 1.0 届, written 第1届), or digits with a separator (4,000, 1 9 9 7, 1 . 5).
# A text without one is returned as it is, without scanning it for numbers.
_MAY_FOLD = re.compile(r"[零〇一二三四五六七八九两十百千万亿第]|[0-9][, ][0-9]|[0-9] \.|\. [0-9]")
_DIRECTION = re.compile(r"(?:(增长|提高|上升|增加|上涨|提升|增幅|增速|扩大|新增|涨|增)|(下降|减少|降低|回落|下滑|下跌|降幅|缩小|跌|降|减))"
                        r"(?:了|到|至|为|达到|达|幅度为|幅度)?$")
_CLAUSE_END = re.compile(r"[，。；;、,！？!?\n：:（）()]")


@dataclass
class Quantity:
    """One number mention. value keeps the 万/亿 scaling (1.2万亿元: 1.2e12, unit 元, magnitude
    万亿); a range has value None and low/high; a date's value is year*10000 + month*100 + day,
    0 for what is not written (3月5日: 305)."""

    start: int
    end: int
    text: str
    value: float | None
    unit: str = ""
    magnitude: str = ""
    qualifier: str = ""
    kind: str = "number"  # number | percent | range | ratio | year | date | ordinal
    direction: str | None = None  # "up" | "down", from a verb just before (增长 / 下降)
    low: float | None = None
    high: float | None = None


def _cn_int(s: str) -> int | None:
    if all(c in _DIGITS for c in s):  # digit by digit: 二〇二五
        return int("".join(str(_DIGITS[c]) for c in s)) if s else None
    total = wan = section = 0
    digit, last, place, zero = None, 10**9, 1, False
    for i, c in enumerate(s):
        if c in _DIGITS:
            if digit is not None:  # two digits in a row: 十四五, 五一
                return None
            zero, digit = (True, None) if _DIGITS[c] == 0 else (zero, _DIGITS[c])
        elif c in _PLACES:
            p = _PLACES[c]
            if p >= last or (digit is None and i):
                return None
            section += (digit or 1) * p
            digit, last, place, zero = None, p, p, False
        else:  # 万, 亿 close a section; "亿万", "万万" are not numbers
            section += digit or 0
            if not section and i and not (c == "亿" and wan):
                return None
            if c == "万":
                if wan:
                    return None
                wan, place = (section or 1) * 10**4, 10**4
            else:
                total, wan, place = (total + (wan + section or 1)) * 10**8, 0, 10**8
            digit, section, last, zero = None, 0, 10**9, False
    if digit is not None:  # 一万五 = 15000, 三百五 = 350, 一百零五 = 105
        section += digit * (1 if zero else max(place // 10, 1))
    return total + wan + section


def _value(s: str) -> float | None:
    """The number in a folded numeral run: digits (4,000 / 1 7), Chinese, or digits + 万/亿."""
    s = s.replace(" ", "")
    m = re.fullmatch(r"([0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?)(万亿|千亿|百亿|亿|千万|百万|万)?", s)
    if m:
        return float(m[1].replace(",", "")) * _MAGS[m[2] or ""]
    if not s or any(c not in _DIGITS and c not in "十百千万亿点" for c in s):
        return None
    whole, dot, frac = s.partition("点")
    digits = frac.rstrip("万亿")
    if not dot:
        v = _cn_int(s)
        return None if v is None else float(v)
    iv = _cn_int(whole)
    if iv is None or not digits or any(c not in _DIGITS for c in digits) or frac[len(digits):] not in _MAGS:
        return None
    return (iv + float("0." + "".join(str(_DIGITS[c]) for c in digits))) * _MAGS[frac[len(digits):]]


def parse_number(text: str) -> float | None:
    """The value of one numeral: "42", "四十二", "1.2万亿", "4,000", "１２", "零点五", "兩千",
    "百分之十" (10: the percent is the caller's unit). None when text is not one numeral."""
    s = text.strip().translate(_FOLD).rstrip("%‰").removeprefix("百分之").removeprefix("千分之")
    negative = s[:1] == "-" and s[1:2].isdigit()
    v = _value(s[1:] if negative else s)
    return None if v is None else -v if negative else v


def _fmt(v: float) -> str:
    return str(int(v)) if v == int(v) else f"{v:.12g}"


def _part(m: re.Match, p: str, unit: str, has_unit: bool, text: str, folds: list) -> tuple[float, str] | None:
    """Value and written magnitude of range part p ("a"/"b"); None when it is not a number."""
    run, (s, e), extra = m[p + "n"], m.span(p + "n"), (m[p + "m"] or "").strip()
    v = _value(run)
    if v is None:
        return None
    if run[0] in "0123456789":
        if "," in run or " " in run:
            folds.append((s, e, run.replace(",", "").replace(" ", "")))
        return v * _MAGS[extra], extra
    positional = any(c in "十百千万亿" for c in run)
    if not positional and (not has_unit or (len(run) == 2 and "点" not in run)):
        return None  # 五一, 七八; a lone 三 without counter
    if not positional and len(run) > 2 and "点" not in run and (unit != "年" or len(run) != 4):
        return None  # digit-by-digit reading only for years: 一九九七年
    if (not has_unit and (len(run) < 2 or run in _BARE)) or run in ("零", "〇"):  # 零部件
        return None
    # the magnitude it is written in: 三千五百万 → 万, 一亿五千万 → 亿, 两千 → ""
    mag = "" if run[-1] not in "万亿" else "万亿" if run.endswith("万亿") else "亿" if "亿" in run else "万"
    if has_unit:
        folds.append((s, e, _fmt(v / _MAGS[mag]) + (text[e - len(mag):e] if run.endswith(mag) else mag)))
    return v * _MAGS[extra], mag or extra


def _build(m: re.Match, text: str) -> tuple[Quantity | None, list]:
    """The quantity a match denotes (None when it is a word, not a number) and the digit
    rewrites fold_numerals makes inside it, as (start, end, replacement)."""
    if m["x"]:
        return None, []
    g, folds = m.group, []
    qual = next((x for x in (g("pq"), g("aq"), g("aq2"), g("bq"), g("bq2"), g("sq")) if x), "")
    q = Quantity(m.start(), m.end(), text[m.start():m.end()], None, qualifier={"超过": "超", "逾": "超"}.get(qual, qual))
    if g("mo") or g("mo2"):
        parts = [(n, _value(g(n)) if g(n) else 0) for n in (("y", "mo", "d") if g("mo") else ("mo2", "d2"))]
        if any(v is None for _, v in parts):
            return None, []
        folds += [(*m.span(n), _fmt(v)) for n, v in parts if g(n) and not g(n).isdigit()]
        q.value, q.kind = (parts[0][1] * 10000 if g("y") else 0) + parts[-2][1] * 100 + parts[-1][1], "date"
    elif g("ratio"):
        q.kind = "ratio"
    elif g("den"):
        den, nu = _value(g("den")), _value(g("nu"))
        if not den or nu is None:
            return None, []
        if g("den") in ("百", "千"):
            q.value, q.unit, q.kind = nu, "%" if g("den") == "百" else "‰", "percent"
            folds.append((m.start("den"), m.end("nu"), _fmt(nu) + q.unit))
        else:
            q.value = nu / den
    elif g("on"):
        q.value, q.unit, q.kind = _value(g("on")), g("ou") or "", "ordinal"
        if q.value is None:
            return None, []
        if q.unit and not g("on").isdigit():
            folds.append((*m.span("on"), _fmt(q.value)))
    else:
        unit = g("au") or g("bu") or ""
        has_unit = bool(unit or g("am") or g("bm"))
        a = _part(m, "a", unit, has_unit, text, folds)
        b = _part(m, "b", unit, has_unit, text, folds) if g("bn") else None
        if a is None or (g("bn") and b is None):
            return None, []
        if not has_unit and g("an")[0].isdigit() and re.match(r"[A-Za-z]", text[m.end():m.end() + 1]):
            return None, []  # 5G, 3D
        q.unit, q.magnitude = _UNIT_ALIAS.get(unit, unit), a[1]
        if b:
            scale = _MAGS[b[1]] if not a[1] else 1  # 1—2万人: the 万 is both ends
            q.low, q.high, q.kind, q.magnitude = a[0] * scale, b[0], "range", b[1]
        else:
            q.value = a[0]
            if q.unit in ("%", "‰"):
                q.kind = "percent"
            elif q.unit == "年" and 1000 <= a[0] <= 2199 and a[0] == int(a[0]) and not a[1] and qual not in ("多", "余"):
                q.kind = "year"
            elif q.unit == "月" and 1 <= a[0] <= 12 and a[0] == int(a[0]) and not qual:
                q.kind, q.value, q.unit = "date", a[0] * 100, ""
    return q, folds


def _direction(norm: str, start: int) -> str | None:
    window = norm[max(0, start - 8):start]
    cut = max((m.end() for m in _CLAUSE_END.finditer(window)), default=0)
    m = _DIRECTION.search(window, cut)
    return None if m is None else ("up" if m[1] else "down")


def _matches(norm: str):
    pos, search, match = 0, _START.search, _RX.match
    while (c := search(norm, pos)) is not None:
        m = match(norm, c.start())
        if m is not None:
            yield m
        pos = c.end() if m is None else m.end()


def find_quantities(text: str) -> list[Quantity]:
    """Every number mention in text, in order, not overlapping."""
    norm, out = text.translate(_FOLD), []
    for m in _matches(norm):
        q, _ = _build(m, text)
        if q is not None:
            if q.kind in ("number", "percent", "range"):
                q.direction = _direction(norm, q.start)
            out.append(q)
    return out


def fold_numerals(text: str) -> str:
    """Text for search: Chinese-numeral quantities with a unit as digits (四十二个 → 42个,
    百分之十 → 10%, 三千五百万人 → 3500万人), no thousands separators (4,000 → 4000); every
    other character as it was. Questions and passages folded alike match either way of writing."""
    norm = text.translate(_FOLD)
    return _fold(text, norm) if _MAY_FOLD.search(norm) else text


def _fold(text: str, norm: str) -> str:
    """fold_numerals of text (norm: text.translate(_FOLD)), every number scanned."""
    out, pos = [], 0
    for m in _matches(norm):
        # a lone numeral (进一步, 十分) is never rewritten: _build reads it as no quantity or as itself
        _, folds = _build(m, text) if len(m[0]) > 1 and _FOLDABLE.search(m[0]) else (None, ())
        for s, e, rep in folds:
            out += (text[pos:s], rep)
            pos = e
    out.append(text[pos:])
    return "".join(out)


def _key(text: str) -> tuple | None:
    qs = find_quantities(text.strip())
    if len(qs) == 1 and qs[0].text == text.strip():
        q = qs[0]
        if q.kind == "ratio":
            return ("ratio", tuple(float(x) for x in re.split(r" ?: ?", q.text.translate(_FOLD))))
        return (q.kind, q.unit, q.value, q.low, q.high)
    v = parse_number(text)
    return None if v is None else ("number", "", v, None, None)


def same_quantity(a: str, b: str) -> bool:
    """Whether two written forms are the same number with the same unit: 42个 / 四十二个,
    1.2万亿元 / 12000亿元, １２％ / 12% / 百分之十二. Qualifiers (左右, 以上) are not compared."""
    ka, kb = _key(a), _key(b)
    if ka is None or kb is None or len(ka) != len(kb) or ka[:2] != kb[:2]:
        return False
    return all(x == y or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9))
               for x, y in zip(ka[2:], kb[2:]))
