"""Short answers: what a question asks for, and the exact span of a sentence that answers it.

Numbers, dates, people, places and lists are copied verbatim from the cited sentence, never
rewritten, so a user can find them in the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.normalize import for_search, to_simplified

UNIT = (r"(?:平方米|平方公里|公里|千米|米|元|%|％|‰|户|人|名|个|家|所|条|项|件|起|次|倍|座|栋|幢|张|台|辆|"
        r"套|吨|亩|公顷|天|小时|年|期|批|处|戶|個|條|項|間)")
NUMBER = re.compile(rf"\d+(?:[.,]\d+)*(?:\s*(?:多|余|以上))?\s*(?:(?:万亿|万|亿|萬)余?)?{UNIT}?(?:以上|左右|多|余)?")
_Y, _M, _D = r"(?:\d{4}|[一二][〇○零一二三四五六七八九]{3})", r"(?:\d{1,2}|十[一二]?|[一二三四五六七八九])", \
    r"(?:\d{1,2}|[二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"  # digits or Chinese numerals (一九七九年十月一日)
# years of the common era or the Republic, centuries and decades: 公元前510年, 民國26年, 19世紀晚期,
# 20世纪60年代, 本世纪末, 九十年代初
_PART, _DECADE = r"(?:初期|末期|初|末|中叶|中葉|早期|中期|晚期|后期|後期)?", r"(?:\d0|[二三四五六七八九]十)年代"
_ERA = (rf"(?:公元|西元)前?\d{{1,4}}年|民[国國]\s*(?:\d{{1,3}}|[一二三四五六七八九十]{{1,3}})年|"
        rf"(?:\d{{1,2}}|[一二]?十[一二三四五六七八九]?|[一二三四五六七八九]|本|上)世[纪紀](?:{_DECADE})?{_PART}|"
        rf"{_DECADE}{_PART}")
DATE = re.compile(rf"(?:1\d|20)\d0年代{_PART}|{_Y}年{_M}月{_D}日|{_Y}年{_M}月|{_M}月{_D}日|"
                  rf"{_M}月份?(?:底|初|中旬|上旬|下旬)?(?:以前|之前|前)?|{_Y}年(?:底|初|前|内)?|"
                  rf"{_ERA}")
# which way a quantity went, and the question that asks it ("是增加了还是减少了？", "涨了还是跌了")
UP, DOWN = "增长|增加|上升|提高|上涨|上调|调高|扩大|加快|多了|涨", "下降|减少|降低|下调|调低|回落|收窄|缩小|放缓|少了|跌"
DIRECTION = re.compile(rf"(?:有所)?(?:{UP}|{DOWN})了?(?:\d[\d,]*(?:\.\d+)?(?:%|％|个百分点|倍|[万亿]?[元人户吨件个项])?)?")


ASKS = {  # question words → what kind of short answer is wanted, checked in this order
    "direction": re.compile(rf"(?:{UP}|{DOWN})[了的]?还是[^，。？?]{{0,4}}?(?:{UP}|{DOWN})"),
    # 日期 and 时间 only where they are asked (什么时间, 时间是？), not in "用三年时间整党，…多少名"; 多长时间 asks a number
    "date": re.compile(r"什么时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|[公西]元几年|"
                       r"(?:日期|时间)(?:是|为)?(?:什么|哪|何|几)|(?:什么|哪个|哪一?)(?:日期|时间)|"
                       r"(?<!长)(?<!多少)(?:日期|时间)(?:是|为)?[？?]*$"),
    "list": re.compile(r"哪些|哪几|哪两|哪三|哪四|哪五|哪六|哪七|哪八|哪九|哪十"),
    "number": re.compile(r"多少|第几|几[个所条项件名户人家次年倍]|多大|多高|多长|比例|比重|百分之|增长了?几"),
    "person": re.compile(r"谁|哪位|什么人|哪一?个人|姓名|名字"),
    "place": re.compile(r"哪里|哪儿|在哪|什么地方|哪个地方|地点|哪个区|哪个街道|何地"),
}
LIST = re.compile(r"“[^”]{1,20}”(?:[、和及与]?“[^”]{1,20}”)+|[\u4e00-\u9fffA-Za-z0-9]{2,10}(?:、[\u4e00-\u9fffA-Za-z0-9]{2,10})+")
LEAD_VERB = re.compile(r"推进|实施|发展|打造|建设|改造|包括|抓好|狠抓|紧盯|加快|新建|提升|在|是|为|有|以")
CLAUSE = re.compile(r"[^，,：:；;。！？!?]+[，,：:；;。！？!?]*")
COUNTERS = "个所条项件名户人家次倍座栋幢张台辆套吨亩天期批处元%斤米起列场架艘"
MEASURES = ("平方公里|平方米|立方米|公里|公顷|千瓦时|千瓦|千米|微克|标准箱|标箱|人次|"  # units of more than one character
            "美元|欧元|港元|日元|英镑")
SAME_UNIT = {"人": ("人", "名", "人次"), "名": ("名", "人", "人次"), "个": "个", "元": "元", "户": "户",  # simplified spellings
             "%": ("%", "％", "倍", "个百分点"), "面积": ("平方公里", "平方千米", "平方米", "公顷", "亩"),
             "公里": ("公里", "千米"), "千米": ("千米", "公里")}
SHARE_ASKED = re.compile(r"比例|比重|百分|占|率|几成|[一二三四五六七八九]成")
# what a quantity is measured in, by the last word of its name, when the question writes no unit:
# 失业率是多少 asks a %, 接待游客总人数 people, 实际使用外资金额 money, 播种面积 an area
IMPLIED_UNIT = (("%", re.compile(r"(?:率|比重|比例|占比|增速|增幅|涨幅)$")),
                ("人", re.compile(r"(?:人数|人口)$")),
                ("元", re.compile(r"(?:金额|总额|销售额|成交额|营业额|收入|支出|投资|产值|增加值|生产总值|利润|税收|"
                                 r"资金|经费)$")),
                ("面积", re.compile(r"面积$")))
RATE_ASKED = re.compile(r"(?:增长|下降|提高|降低|增幅|增速)了?(?:多少|几)")  # how much it changed
FILLER = re.compile(r"(?:是|为|约为|达到|达|有|一共|总共|共|大约|约|大概|将|要|预计|计划)+$")
PEOPLE = re.compile(r"[^，。？?]{0,5}?(?:人|员|干部|老人|学生|党员|群众|居民|代表|专家)")


def direction_word(said: str) -> str:
    """The way of a DIRECTION match without its amount: "下降40.5%" → "下降", "有所下调" stays."""
    return re.match(r"[^\d]+", said).group().rstrip("了")


def question_kind(question: str) -> str | None:
    q = to_simplified(question)
    for kind, pattern in ASKS.items():
        if pattern.search(q):
            return kind
    return None


@lru_cache(maxsize=256)  # asked once per question, read for every sentence and number
def asked_unit(question: str) -> str | None:
    """The unit a number question wants: 多少户 → 户, 多少钱 → 元, 多少老年人 → 人; where it writes none,
    the one the name of what it asks about implies (IMPLIED_UNIT): 失业率是多少 → %."""
    q = to_simplified(question)
    if RATE_ASKED.search(q):
        return "%"  # a rate
    # a unit first (多少万千瓦: 万 and 千瓦, not 万千 and no unit), else a magnitude alone (多少亿)
    m = (re.search(rf"(?:多少|几)([万亿千百]*)({MEASURES}|[{COUNTERS}]|钱)", q)
         or re.search(r"(?:多少|几)([万亿千百]*)()", q))
    if not m or not m.group(0):
        return None
    multiplier, unit = m.groups()
    if unit:
        return "元" if unit == "钱" else unit
    if multiplier:
        return multiplier[-1]  # "多少亿" asks for 亿, whatever is counted
    if PEOPLE.match(q, m.end()):
        return "人"
    subject = FILLER.sub("", re.sub(r"[\s，,、]+$", "", q[:m.start()]))
    return next((unit for unit, named in IMPLIED_UNIT if named.search(subject)), None)


@lru_cache(maxsize=256)
def asked_noun(question: str) -> str | None:
    """What a number question counts: 几个场馆 → 场馆 (a report may write "4大场馆")."""
    m = re.search(rf"(?:多少|几)[{COUNTERS}]?([\u4e00-\u9fff]{{2}})", to_simplified(question))
    return m.group(1) if m else None


@dataclass(frozen=True)
class NumberSpan:
    """A number mention as a match: `start()`, `end()`, `group()` (see qa.numbers.find_quantities)."""
    a: int
    b: int
    text: str
    value: float | None

    def start(self) -> int:
        return self.a

    def end(self) -> int:
        return self.b

    def group(self) -> str:
        return self.text


LEADING = re.compile(r"^(?:约|近|超过|超|逾|达到|达)")


@lru_cache(maxsize=512)
def numbers(sentence: str, question: str = "") -> list[NumberSpan]:
    """Number mentions of a sentence (digits or Chinese numerals, with unit, 左右/以上, ranges,
    ratios), without years, dates, ordinals, names like G20, and numbers the question gives."""
    from qa.numbers import find_quantities, parse_number

    given = {q.value for q in find_quantities(question) if q.value is not None}
    given |= {parse_number(x) for x in re.findall(r"\d+(?:\.\d+)?", question)}
    out = []
    for q in find_quantities(sentence):
        if q.kind in ("year", "date", "ordinal") or (q.value is not None and q.value in given):
            continue
        lead = LEADING.match(q.text)
        a = q.start + (lead.end() if lead else 0)
        out.append(NumberSpan(a, q.end, sentence[a:q.end], q.value))
    return out


def unit_matches(number: str, unit: str | None) -> bool:
    if not unit:
        return False
    number = to_simplified(number).rstrip("以上左右多余")
    if unit in "亿万":
        return unit in number
    if unit == "元":
        return "元" in number
    units = SAME_UNIT.get(unit, (unit,))
    # the whole unit: 117平方公里 is no length (多少公里)
    return any(number.endswith(u) and not number[:-len(u)].endswith(("平方", "立方"))
               for u in (units if isinstance(units, tuple) else tuple(units)))


def unit_clash(number: str, question: str) -> bool:
    """The number is said in a unit that cannot be the one asked: 3011万平方米 for 多少个, 1.4% for
    多少亿元, 28.2% for 多少起, 37.7万人 for 失业率是多少, 1.5倍 for 多少万担 (a magnitude alone asks an
    amount). A change asked (增长了多少) clashes with nothing, nor does a unit the question writes where
    it asks (多少个百分点) other than the unit asked: 公里 is not written by 多少平方公里, and the 年 of
    "2021年新增就业多少人" is a date's, so 2020年 clashes. 个 asked takes any counter (5所 for 多少个学校)."""
    from qa.numbers import find_quantities

    unit, question = asked_unit(question), to_simplified(question)
    if unit is None or unit_matches(number, unit):
        return False
    said = next(iter(find_quantities(number)), None)
    if unit == "%":  # a share or rate asked as such (失业率是多少 → not 37.7万人); a change asked takes any number
        return not RATE_ASKED.search(question) and bool(said and said.unit) and not _a_share(said)
    if unit in ("亿", "万", "千", "百"):  # a magnitude alone asks an amount, never a share: 多少万担 → not 1.5倍
        return bool(said) and _a_share(said)
    asked = re.search(r"多少|几", question)
    written = question[asked.start() if asked else 0:].replace(unit, "")  # what it asks, less the unit asked
    if said is None or not said.unit or said.unit in written:
        return False
    if _a_share(said):
        return not SHARE_ASKED.search(question)  # 多少比例的人 asks a share
    return not (unit == "个" and len(said.unit) == 1 and said.unit in COUNTERS)


def _a_share(said) -> bool:
    """A quantity said as a percent, a ratio or a multiple (qa.numbers.Quantity)."""
    return said.kind in ("percent", "ratio") or said.unit in (*SAME_UNIT["%"], "‰")


def answers_count(sentence: str, m: re.Match, question: str) -> bool:
    """The number is in the asked unit, or is followed by what the question counts."""
    noun = asked_noun(question)
    return unit_matches(m.group(), asked_unit(question)) or bool(noun and noun in for_search(sentence[m.end():m.end() + 4]))


def fits(kind: str | None, sentence: str, question: str = "") -> float:
    """How well a sentence can answer the kind of question: 1 a number of the asked unit (or any
    number when no unit is asked), 0.5 a number of another unit."""
    if kind == "number":
        found = numbers(sentence, question)
        if not asked_unit(question) and not asked_noun(question):
            return float(bool(found))
        return 1.0 if any(answers_count(sentence, m, question) for m in found) else 0.5 * bool(found)
    if kind == "date":
        return float(bool(DATE.search(sentence)))
    if kind == "list":
        return float(bool(LIST.search(sentence)))
    if kind == "direction":
        return float(bool(DIRECTION.search(to_simplified(sentence))))
    return 0.0


def _trim_list(span: str) -> str:
    """Cut the verb before the first item and what follows the last: "全面提升改造桥西、小河直街、
    大兜路三大" → "桥西、小河直街、大兜路"."""
    parts = span.split("、")
    if span.startswith("“") or len(parts) < 2:
        return span
    plain = to_simplified(span)
    last = re.split(r"等|再|将|的|和|一批|[两二三四五六七八九十几多][大个项条套家所类块]|\d", plain[len(plain) - len(parts[-1]):])[0]
    if len(last) >= 2:
        parts[-1] = parts[-1][:len(last)]
    longest = max(map(len, parts[1:]))
    if len(parts[0]) > longest + 1:
        head = to_simplified(parts[0])
        cuts = [m.end() for m in LEAD_VERB.finditer(head) if len(head) - m.end() >= 2]
        if cuts:
            parts[0] = parts[0][cuts[-1]:]
    return "、".join(parts)


def snippet(sentence: str, short: str | None, weights: dict[str, float], limit: int = 110) -> str:
    """The sentence, or for a long one the clauses around the answer, at most ~`limit` characters."""
    sentence = sentence.strip().replace("**", "")
    if len(sentence) <= limit:
        return sentence.rstrip("，,：:；;")
    clauses = [m.group() for m in CLAUSE.finditer(sentence)]
    if not clauses:
        return sentence[:limit] + "…"
    gain = [sum(w for t, w in weights.items() if t in for_search(c)) for c in clauses]
    core = next((i for i, c in enumerate(clauses) if short and short in c), max(range(len(clauses)), key=gain.__getitem__))
    lo = hi = core
    while True:  # grow towards the side whose clause adds more of the question's words
        options = [i for i in (lo - 1, hi + 1) if 0 <= i < len(clauses)]
        options = [i for i in options if sum(map(len, clauses[min(lo, i):max(hi, i) + 1])) <= limit]
        if not options:
            break
        i = max(options, key=lambda i: (gain[i], -i))
        if gain[i] <= 0 and hi - lo >= 1:
            break
        lo, hi = min(lo, i), max(hi, i)
    text = "".join(clauses[lo:hi + 1]).rstrip("，,：:；;")
    return ("…" if lo > 0 else "") + text + ("…" if hi < len(clauses) - 1 else "")
