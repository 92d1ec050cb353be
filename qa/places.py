"""Places and issuing bodies: how a report names its place, and how a question may name it.

"广东省第十四届人民代表大会" → 广东省; "中国共产党杭州市拱墅区第七次代表大会" → 杭州市拱墅区;
"第十三届全国人民代表大会" → 国务院; "中国共产党第二十次全国代表大会" → 中共中央. Below the
provinces (listed here) no gazetteer is kept: a county or district is recognised by its suffix,
or, when a text only keeps saying "拱墅", by jieba's dictionary knowing "拱墅区" as a place.
"""

from __future__ import annotations

import re
from collections import Counter

from qa.normalize import for_search

PROVINCES = ("北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 江西省 "
             "山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 甘肃省 青海省 台湾省 "
             "内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 新疆维吾尔自治区 香港特别行政区 澳门特别行政区").split()
SHORT_PLACE = {re.sub(r"(省|市|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区)$", "", p): p for p in PROVINCES}
# "杭州市拱墅区", "拱墅区", "广东省" as written in a meeting name or a role.
PLACE = re.compile(r"((?:[\u4e00-\u9fff]{2,7}?(?:省|自治区|市))?[\u4e00-\u9fff]{2,4}?(?:省|自治区|市|区|县|州|旗))")
NOT_PLACE = re.compile(r"^(?:全|各|本|我|该|城|辖|园|社|小|景|地|片|新|街|试验|示范|功能|开发|城市|县市|省市|市区)")
SUFFIX = re.compile(r"(?:特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区|省|市|区|县)$")
UNIT = re.compile(r"[\u4e00-\u9fff]{2,}?(?:特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区|省|市|区|县)")


def most_named_place(body: str) -> str | None:
    """The place a text keeps naming ("拱墅" 18 times): a name that jieba's dictionary knows as a place
    once 区/市/县/省 is added, and that is no ordinary word by itself (中心, 和平 are not places)."""
    from qa.lexical import dictionary_tags

    counts: Counter = Counter()
    for n in (2, 3):
        counts.update(body[i:i + n] for i in range(len(body) - n))
    levels = Counter({s: body.count(f"全{s}") + body.count(f"{s}委") for s in "省市区县"})
    # the tags (user words' included) of the only words asked about below: looked up, so that a
    # changed report is described without loading jieba's whole dictionary
    asked = [w for w, n in counts.items() if n >= 5 and re.fullmatch(r"[\u4e00-\u9fff]+", w)]
    tags = dictionary_tags(asked + [w + suffix for w in asked for suffix in "省市区县"])
    best = None
    for word, n in counts.items():
        if n < 5 or not re.fullmatch(r"[\u4e00-\u9fff]+", word) or tags.get(word) not in (None, "ns"):
            continue
        for suffix in sorted("省市区县", key=lambda s: -levels[s]):
            if tags.get(word + suffix) == "ns":
                key = (n, -body.index(word))
                if best is None or key > best[0]:
                    best = (key, SHORT_PLACE.get(word, word + suffix))
                break
    return best[1] if best else None


def names_a_place(word: str) -> bool:
    """Whether a word of a question names a province, city, county or district: a province (or
    its short name), or a name jieba knows as a place once 省/市/区/县 is added ("宁波", "拱墅区",
    "汶川") and that is no common word and starts like none (城镇, 城中村, 新建, 中心 are not
    places; nor is 中国 or 中美, which name no report's place)."""
    stem = SUFFIX.sub("", word)
    if stem in SHORT_PLACE or word in PROVINCES:
        return True
    if len(stem) < 2 or NOT_PLACE.match(stem):
        return False
    from qa.lexical import _jieba

    tags = _jieba().posseg.dt.word_tag_tab
    if tags.get(word) not in (None, "ns"):  # an ordinary word first (中心, 和平): no place
        return False
    return any(tags.get(stem + suffix) == "ns" for suffix in "省市区县")


def place_in(text: str) -> str | None:
    """The place a meeting name, role or title names: "广东省", "杭州市拱墅区", "国务院", "中共中央"."""
    if re.search(r"全国人民代表大会|国务院", text):
        return "国务院"
    if re.search(r"中国共产党第.{1,4}次全国代表大会|中央委员会", text):
        return "中共中央"
    text = re.sub(r"^\d{4}\s*年度?|^中国共产党|^中共", "", text)
    for short, full in SHORT_PLACE.items():
        if text.startswith((full, short)):
            rest = text[len(full) if text.startswith(full) else len(short):]
            sub = PLACE.match(rest)
            return full + sub.group(1) if sub and not NOT_PLACE.match(sub.group(1)) and _is_unit(rest) else full
    m = PLACE.match(text)
    return m.group(1) if m and not NOT_PLACE.match(m.group(1)) else None


def _is_unit(rest: str) -> bool:
    return not re.match(r"^第|^人民|^政府", rest)


def place_names(place: str | None) -> set[str]:
    """How a question may name a report's place: "杭州市拱墅区" → 杭州市拱墅区, 拱墅区, 拱墅 (not 杭州)."""
    if not place:
        return set()
    p = for_search(place)
    units = UNIT.findall(p)
    last = units[-1] if units else p
    short = SUFFIX.sub("", last)
    return {p, last} | ({short} if len(short) >= 2 else set())


def place_key(place: str | None) -> str:
    """The lowest unit of a place, without its suffix: "杭州市拱墅区" and "拱墅区" → "拱墅"."""
    p = for_search(place or "")
    units = UNIT.findall(p)
    return SUFFIX.sub("", units[-1]) if units else p
