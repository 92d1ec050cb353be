"""Stage 5b: describe one report from its own text — title, date, place, speaker, meeting, kind.

Each value records where it was found ("date line", "meeting line", "title", "byline", "inferred",
"file name") and a confidence. Layouts read here, in the report's head (the lines before
"各位代表：" / "同志们："):

    2025年广东省政府工作报告                                    ← title (year and place in it)
    ——2025年1月15日在广东省第十四届人民代表大会第三次会议上    ← meeting line with its date
    广东省省长 王伟中                                          ← role + speaker
    2025年1月14日在北京市…会议上北京市市长 殷勇同志作政府工作报告。 ← all of it in one sentence
    (2016年7月28日)                                            ← date line
    朱建明 中共杭州市拱墅區委書記                              ← byline: speaker + role

Matching runs on simplified, half-width text; titles keep the report's own script. A value the
text does not support stays None: unknown is not a guess.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qa.dates import (DATE_LINE, FULL_DATE, TERM_REVIEWED, YEAR_IN, cn_number, iso, meeting_year, normalise,
                      npc_year)
from qa.normalize import for_search
from qa.places import most_named_place, place_in

HEAD_LINES = 14
MAX_TITLE_CHARS = 60
BODY_CHARS = 60  # a head line that runs longer is a sentence of the text, unless it names the meeting
SALUTATION = re.compile(r"(?:各位代表|同志们|代表们|各位委员)\s*[:：!！,，]")
MEETING = re.compile(r"在([^在，。]{2,40}?(?:会议|大会|全会|党代会))(?:上|开幕)")
ROLE_WORD = r"(?:代?省长|代?市长|代?区长|代?县长|代?州长|主席|总理|书记|旗长|盟长|主任|院长|检察长|局长)"
# a name: 2-4 characters ("许 明" set with a space), or two parts joined by "·" ("艾尔肯·吐尼亚孜")
NAME = r"[\u4e00-\u9fff]{2,6}[·•．][\u4e00-\u9fff]{2,8}|[\u4e00-\u9fff](?:\s?[\u4e00-\u9fff]){1,3}?"
ROLE_NAME = re.compile(rf"([\u4e00-\u9fff]{{0,20}}?{ROLE_WORD})\s*({NAME})"
                       r"(?:同志)?(?=\s*(?:作|在|$|，|同志))")
NAME_ROLE = re.compile(rf"^([\u4e00-\u9fff]{{2,3}})\s+([\u4e00-\u9fff]{{2,20}}{ROLE_WORD})$")
SPACED_NAME = re.compile(r"^[\u4e00-\u9fff](?:\s*[\u4e00-\u9fff]){1,3}$")
KINDS = [("统计公报", re.compile(r"统计公报")), ("政府工作报告", re.compile(r"政府工作报告|报告政府工作")),
         ("人大常委会工作报告", re.compile(r"(?:人大常委会|常务委员会)工作报告")),
         ("法院工作报告", re.compile(r"法院工作报告")), ("检察院工作报告", re.compile(r"检察院工作报告")),
         ("全会报告", re.compile(r"全体(?:\(扩大\)|（扩大）)?会议|全会")),
         ("党代会报告", re.compile(r"中国共产党.{0,12}代表大会|党代会|党的.{0,6}代表大会")),
         ("讲话", re.compile(r"讲话"))]


@dataclass
class Meta:
    title: str | None = None
    date: str | None = None
    place: str | None = None
    speaker: str | None = None
    role: str | None = None
    meeting: str | None = None
    kind: str | None = None
    provenance: dict[str, dict] = field(default_factory=dict)

    def put(self, key: str, value: str | None, source: str, confidence: float) -> None:
        """Set a value unless one from a surer source is already there."""
        if not value or (getattr(self, key) and self.provenance[key]["confidence"] >= confidence):
            return
        setattr(self, key, value)
        self.provenance[key] = {"source": source, "confidence": confidence}


def detect(text: str, file_name: str = "", title: str | None = None, properties: dict | None = None) -> Meta:
    """Metadata of one report; `title` is one already found by the compilation splitter,
    `properties` the file's own title and subject (PDF, Word), weaker than the text."""
    meta = Meta()
    raw = _head(text)
    head = [normalise(ln) for ln in raw]
    _title(meta, raw, title)
    for ln in head:
        _dated_meeting_line(meta, ln)
        _speaker(meta, ln)
    _kind(meta, text)
    searchable = for_search(text[:20000])  # once: NFKC of a long text is a good part of an ingest
    _place(meta, searchable)
    _file_properties(meta, properties or {})
    _inferred_year(meta, searchable)
    _inferred_meeting(meta, searchable)
    _meeting_year(meta, searchable)
    _inferred_title(meta, for_search(text[:5000]), head)
    _file_name_year(meta, file_name)
    return meta


def _head(text: str) -> list[str]:
    """The lines before the salutation, a line that runs into it ("…市长 龚正各位代表：现在…") cut there."""
    lines = []
    for n, ln in enumerate(text.split("\n")[:HEAD_LINES]):
        m = SALUTATION.search(ln[:400])
        if m:
            lines += _parts(ln[:m.start()])
            break
        if n and (len(ln) > 2 * BODY_CHARS or len(ln) > BODY_CHARS and re.search("[，,；;]", ln)):
            break  # the first paragraph of the text: the head is over
        lines += _parts(ln)
    return [ln for ln in lines if ln]


def _parts(line: str) -> list[str]:
    """A head run together on one line, cut at "——", after "…会议上" and around a date in brackets."""
    line = re.sub(r"(——|—\s*\d{4}年)", r"\n\1", line)
    line = re.sub(r"((?:会议|大会|全会)上(?:的(?:报告|讲话))?(?![)）])|[(（]\s*\d{4}\s*年[^()（）]{0,12}[)）])", r"\1\n", line)
    return [part.strip() for part in line.split("\n") if part.strip()]


def _title(meta: Meta, raw: list[str], given: str | None) -> None:
    """The title line: the one above the meeting line (not a site name above it), else the first."""
    lines = _join_split_words(raw)
    norm = [normalise(ln) for ln in lines]
    if given and given in lines:
        i = lines.index(given)
        # "高举…旗帜" / "为…而团结奋斗": a title set on two lines; one with a space has both its parts
        above = i >= 1 and _title_like(norm[i - 1]) and (i == 1 or not _title_like(norm[i - 2]))
        if above and norm[i] in norm[i - 1]:  # "2025年湖南省政府工作报告" over "政府工作报告": the fuller one
            given = lines[i - 1]
        elif above and " " not in given.strip():
            given = f"{lines[i - 1]} {given}"
        meta.put("title", given, "title", 0.9)
    elif given:
        meta.put("title", given, "title", 0.9)
    candidates = [i for i, n in enumerate(norm) if _title_like(n)]
    if not candidates:
        return
    above = [i for i in candidates if i + 1 < len(norm) and MEETING.search(norm[i + 1])]
    i = candidates[0]
    if above:  # "2025年湖南省政府工作报告" / "政府工作报告" / meeting line: the fuller one of the two
        i = next((c for c in candidates if c < above[0] and norm[above[0]] in norm[c]), above[0])
    title = lines[i]
    if i + 2 < len(norm) and _title_like(norm[i + 1]) and _meeting_only(norm[i + 2]) and norm[i + 1] not in norm[i]:
        title = f"{lines[i]} {lines[i + 1]}"  # a two-line title over its meeting line
    meta.put("title", re.sub(r"\s+", " ", title.lstrip("# ")).strip(), "title", 0.85)
    year = YEAR_IN.match(norm[i])
    if year:
        meta.put("date", year.group(1), "title", 0.8)


def _join_split_words(lines: list[str]) -> list[str]:
    """"政府工作报" / "告": a title broken inside a word."""
    out: list[str] = []
    for ln in lines:
        if out and len(ln) <= 2 and (out[-1] + ln).endswith(("报告", "公报", "讲话")):
            out[-1] += ln
        else:
            out.append(ln)
    return out


def _title_like(line: str) -> bool:
    return (0 < len(line) <= MAX_TITLE_CHARS and line[-1] not in "。；！？，,:："
            and not re.match(r"^[—\-]|^[(（]|^\d+[.、]|^特\s*载$|^#|.*(?:汇编|选编|目录)$", line.lstrip("# "))
            and not FULL_DATE.search(line) and not _byline(line) and not _meeting_only(line)
            and not SPACED_NAME.match(line) and len(line.replace(" ", "")) > 3)


def _meeting_only(line: str) -> bool:
    return bool(re.match(r"^[—\-]*\s*(?:\d{4}年\d{1,2}月\d{1,2}日)?\s*在.*上(?:的(?:报告|讲话))?$", line))


def _byline(line: str) -> bool:
    return bool(NAME_ROLE.match(line) or ROLE_NAME.fullmatch(line.strip()))


def _dated_meeting_line(meta: Meta, line: str) -> None:
    m = DATE_LINE.match(line) or FULL_DATE.fullmatch(line.strip())
    if m:
        meta.put("date", iso(*m.groups()), "date line", 0.95)
        return
    meeting = MEETING.search(line)
    if meeting and len(line) <= 120:
        meta.put("meeting", meeting.group(1).strip(" —-"), "meeting line", 0.9)
        d = FULL_DATE.search(line[: meeting.start() + 1])
        if d:
            meta.put("date", iso(*d.groups()), "meeting line", 0.95)


def _speaker(meta: Meta, line: str) -> None:
    s = line.strip()
    if len(s) > BODY_CHARS and not MEETING.search(s):  # "副市长张三在会上指出…" in a news story is no byline
        return
    m = NAME_ROLE.match(s)
    if m:
        meta.put("speaker", m.group(1), "byline", 0.85)
        meta.put("role", m.group(2), "byline", 0.85)
        return
    for m in ROLE_NAME.finditer(s):
        role = re.sub(r"^.*?(?:会议上|大会上|日)", "", m.group(1))
        name = re.sub(r"\s", "", m.group(2))
        if len(name) >= 2:
            meta.put("speaker", name, "byline", 0.85)
            meta.put("role", role, "byline", 0.85)
            return
    if SPACED_NAME.match(s) and (meta.meeting or meta.provenance.get("date", {}).get("source") == "date line"):
        meta.put("speaker", re.sub(r"\s", "", s), "byline", 0.8)  # "许 明" under a meeting or date line


def _kind(meta: Meta, text: str) -> None:
    for source, value, conf in (("title", meta.title, 0.85), ("meeting line", meta.meeting, 0.8)):
        value = for_search(value or "")
        # a meeting of a 人民代表大会 hears the government's work report
        kind = "政府工作报告" if "人民代表大会" in value and source == "meeting line" else \
            next((k for k, pattern in KINDS if pattern.search(value)), None)
        meta.put("kind", kind, source, conf)
    body = for_search(text[:3000])
    if re.search(r"我代表(?:国务院|.{0,10}人民政府)[^。]{0,50}?(?:工作报告|报告[^。]{0,14}工作)", body):
        meta.put("kind", "政府工作报告", "inferred", 0.7)
    elif re.search(r"我代表.{0,14}委员会.{0,6}向.{0,10}(?:大会|代表大会)", body):
        meta.put("kind", "党代会报告", "inferred", 0.7)
    if not meta.kind and not meta.speaker and re.search(r"记者|通讯员|日前|近日|表示[，,]", body):
        meta.put("kind", "新闻报道", "inferred", 0.5)


def _place(meta: Meta, body: str) -> None:
    found = [(p, source) for value, source in ((meta.meeting, "meeting line"), (meta.role, "byline"),
                                               (meta.title, "title")) if value and (p := place_in(for_search(value)))]
    if found:
        place, source = found[0]
        # "拱墅区" from the meeting, "杭州市拱墅区" from the role: the fuller name of the same place
        place, source = max(((p, s) for p, s in found if p.endswith(place)), key=lambda f: len(f[0]))
        meta.put("place", place, source, 0.85 if source == "title" else 0.9)
        return
    if re.search(r"全国人民代表大会", for_search(meta.meeting or "")) or re.search(r"我代表(?:国务院|中央人民政府)", body[:3000]):
        meta.put("place", "国务院", "inferred", 0.8)
        return
    if re.search(r"我代表.{0,16}中央委员会|中国共产党第.{1,4}次全国代表大会", body[:3000]):
        meta.put("place", "中共中央", "inferred", 0.8)
        return
    named = most_named_place(body)
    if named:
        meta.put("place", named, "inferred", 0.4)


N = "[一二三四五六七八九十百零〇]+"
# a meeting as the opening of a report names it: "向党的第十二次全国代表大会作报告",
# "中国共产党第十五次全国代表大会是…", "我们第一届全国人民代表大会第一次会议，在…",
# "向第十届全国人民代表大会第一次会议报告过去五年的工作"
MEETING_NAME = (rf"(?:中国共产党|党的)?第{N}次全国代表大会"
                rf"|[^\s，。：；、]{{0,12}}?第{N}届[^\s，。：；、]{{0,12}}?人民代表大会(?:第{N}次(?:全体)?会议)?")
OPENING_MEETING = re.compile(rf"向({MEETING_NAME})(?:作|报告)|(?:^|\n)\s*(?:我们)?({MEETING_NAME})(?:[，,]\s*在|[，,]?是)")


def _inferred_meeting(meta: Meta, body: str) -> None:
    """The meeting a report without a meeting line was given at, from its opening paragraphs; a
    meeting named as past ("…第一次会议以来的五年") is not it."""
    start = SALUTATION.search(body[:1500])
    m = OPENING_MEETING.search(body[start.end() if start else 0:][:600])
    if m:
        meeting = m.group(1) or m.group(2)
        meta.put("meeting", "中国共产党" + meeting[2:] if meeting.startswith("党的") else meeting, "inferred", 0.6)


# how people name a meeting: 第十二次全国代表大会 → 十二大; 第十四届全国人民代表大会第三次会议 →
# 十四届全国人大三次会议; 第十八届中央委员会第三次全体会议 → 十八届三中全会
ALIASES = [(re.compile(rf"第({N})次全国代表大会"), ("{0}大", "党的{0}大")),
           (re.compile(rf"第({N})届全国人民代表大会第({N})次会议"), ("{0}届全国人大{1}次会议", "{0}届人大{1}次会议")),
           (re.compile(rf"([^\s第]{{2,12}}?)第({N})届人民代表大会第({N})次会议"), ("{0}{1}届人大{2}次会议", "{1}届人大{2}次会议")),
           (re.compile(rf"第({N})届中央委员会第({N})次全体会议"), ("{0}届{1}中全会",))]


def meeting_names(meeting: str | None) -> str:
    """A meeting as the report writes it and as people name it, for matching a question's words."""
    if not meeting:
        return ""
    names = [meeting]
    for pattern, forms in ALIASES:
        m = pattern.search(meeting)
        if m:
            names += [f.format(*m.groups()) for f in forms]
    return " ".join(dict.fromkeys(names))


def _inferred_title(meta: Meta, body: str, head: list[str]) -> None:
    """No title line: the title the report gives itself ("报告的总题目是：…"), else its kind's name
    ("政府工作报告", "在中国共产党第十二次全国代表大会上的报告")."""
    m = re.search(r"(?:报告的总题目|报告的题目|大会的主题|报告的主题)是[:：]([^。]{4,120})。", body)
    speech = next((ln for ln in head if _meeting_only(ln) and re.search(r"的(?:讲话|报告)$", ln)), None)
    if m:
        meta.put("title", m.group(1), "inferred", 0.6)
    elif speech:  # "在全市经济工作会议上的讲话" is the title of a speech that has no other
        meta.put("title", speech.lstrip("—- "), "meeting line", 0.6)
        meta.put("kind", "讲话" if speech.endswith("讲话") else None, "meeting line", 0.6)
    elif meta.kind == "政府工作报告":
        meta.put("title", "政府工作报告", "inferred", 0.5)
    elif meta.kind == "党代会报告" and meta.meeting:  # a congress report's own name, not its file's
        meta.put("title", f"在{meta.meeting}上的报告", "inferred", 0.5)


def _inferred_year(meta: Meta, body: str) -> None:
    """A work report reviewing year Y ("2024年工作回顾", "过去一年…2024年") and planning Y+1 is of Y+1;
    a text about "今年上半年" that names "2020年上半年" is of 2020."""
    if meta.date:
        return
    halves = Counter(re.findall(r"((?:19|20)\d{2})\s*年\s*(?:上半年|1\s*[-—至~]\s*6\s*月|前三季度|一季度)", body))
    if halves and re.search(r"今年(?:上半年|以来|1\s*[-—至~]\s*6\s*月|前三季度|一季度)", body):
        meta.put("date", halves.most_common(1)[0][0], "inferred", 0.5)
        return
    if meta.kind not in ("政府工作报告", None):
        return
    review = re.search(r"(?:^|\n)[一二三四五六七八九十、.\s]*((?:19|20)\d{2})\s*年\s*(?:工作回顾|主要工作|工作总结)", body)
    if review:
        meta.put("date", str(int(review.group(1)) + 1), "inferred", 0.7)
        return
    plans = Counter(YEAR_IN.findall(" ".join(re.findall(r"[^。]{0,30}(?:目标|安排|预期)[^。]{0,30}", body))))
    past = Counter(YEAR_IN.findall(" ".join(re.findall(r"(?:过去一年|去年|刚刚过去的)[^。]{0,40}", body))))
    if plans and past:
        plan, past_year = plans.most_common(1)[0][0], past.most_common(1)[0][0]
        if int(plan) == int(past_year) + 1:
            meta.put("date", plan, "inferred", 0.6)


def _meeting_year(meta: Meta, body: str) -> None:
    """A report without a date: the year of the national meeting it was given at, or, for the State
    Council's report ("我代表国务院…"), the year after the term its opening reviews ended (above the
    file name's year, which a scraped page often lacks)."""
    year = meeting_year(meta.meeting)
    opening = body[:3000]
    if year is None and "代表国务院" in opening and (m := TERM_REVIEWED.search(opening)):
        first = npc_year(int(cn_number(m.group(1))))
        year = first + 5 if first else None
    if year:
        meta.put("date", str(year), "meeting", 0.45)


def _file_properties(meta: Meta, properties: dict) -> None:
    """A file's title property is often a template's or a converter's ("Microsoft Word - a.doc"): only
    one that reads like a report title counts, and below what the text says."""
    for key in ("title", "subject"):
        value = properties.get(key, "").strip()
        if not value or re.search(r"(?i)microsoft|word|\.docx?$|\.pdf$|untitled|^文档|^新建|^[\x00-\x7f]*$", value):
            continue
        meta.put("title", value, "file properties", 0.5)
        year = YEAR_IN.search(normalise(value))
        if year:
            meta.put("date", year.group(1), "file properties", 0.45)
        return


def _file_name_year(meta: Meta, file_name: str) -> None:
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", Path(file_name).stem)
    if m:
        meta.put("date", m.group(1), "file name", 0.4)
