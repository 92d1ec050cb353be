"""Follow-up questions: rewrite a question that refers back into one that stands on its own.

Rule based and pure. A question refers back when it starts with 那/那么, is short and ends with
呢, or uses a pronoun (他/她/它/他们/其/该/这些/上述…). Such a question is combined with the
previous one: a new year or meeting replaces the old one ("那2020年呢？" after "2019年计划拆迁
多少户？" → "2020年计划拆迁多少户？"), and a pronoun is replaced by what it points to (the
speaker or report of the previous answer). A question that does not refer back is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEAD = re.compile(r"^(?:那么|那|那你|所以|还有|另外|以及)[，,、\s]*")
TAIL = re.compile(r"[呢吗嘛呀啊]?[？?。！!\s]*$")
PERSON = re.compile(r"(?<![其吉])(他们|她们|他|她)(?!们)")
REPORT = re.compile(r"(该报告|这份报告|这个报告|这篇报告|该文件|上述报告|该会议|这次会议)")
THING = re.compile(r"(这些|上述|(?<!应)该(?![怎])|(?<![尤极])其(?![他它中实余次])|(?<!其)它)")
YEAR = re.compile(r"(?:19|20)\d{2}\s*年(?:度)?(?:上半年|下半年)?|(?:今年|去年|明年|前年)")
HALF = re.compile(r"上半年|下半年|全年")
ORDINAL = re.compile(r"第[一二三四五六七八九十\d]+次(?:党代会|代表大会|全体会议|全会|会议)|[一二三四五六七八九十\d]+中全会")
# A question that starts with its predicate has left out its subject: "增长了多少", "为什么".
PREDICATE = re.compile(r"(?:增长|下降|提高|降低|减少|增加|完成|实现|达到|占|是|有|为什么|为何|怎么|如何|多少|几)")
WHY = re.compile(r"为什么|为何|怎么|如何")
ASKED = re.compile(r"(?:是|有|为|达到|共|一共)?(?:多少|几[个所条项件名户人家次年倍]?|什么|哪些|哪里|哪儿|谁)[^，。？?]*[？?]?$")
# A question asking a measure of its topic: "…地区生产总值增长了多少", "…收入是多少".
MEASURE = re.compile(r"(?:同比)?(?:增长|下降|提高|降低|减少|增加|达到|占|是|为)了?(?:多少|几)")
PLACE = re.compile(r"^[\u4e00-\u9fff]{2,6}?(?:区|市|县|省|镇|街道)")
SHORT = 12  # characters: a question this short with 呢 and no topic of its own is elliptical


@dataclass
class Turn:
    """What the rewrite needs from an earlier exchange."""

    question: str  # the question as searched (already rewritten, if it was)
    speaker: str | None = None  # of the first cited report
    title: str | None = None


def refers_back(question: str) -> bool:
    q = question.strip()
    if not q:
        return False
    if LEAD.match(q) and LEAD.match(q).group(0):
        return True
    if PERSON.search(q) or THING.search(q) or REPORT.search(q):
        return True
    core = TAIL.sub("", q)
    return len(core) <= SHORT and bool(re.search(r"呢[？?]?\s*$", q))


def rewrite(question: str, history: list[Turn]) -> str | None:
    """The question to search for, or None when it stands on its own (or there is no history)."""
    if not history or not refers_back(question):
        return None
    prev = history[-1]
    q = question.strip()
    core = TAIL.sub("", LEAD.sub("", q)).strip("，,、 ")
    if not core:
        return None
    new_time = _times(core)
    new_meeting = ORDINAL.findall(core)
    rest = core
    for t in new_time + new_meeting:
        rest = rest.replace(t, "", 1)
    rest = rest.strip("，,、的 ")
    if (new_time or new_meeting) and len(rest) <= 2:
        # "那2020年呢？": the previous question with its year (or meeting) replaced
        out = prev.question
        if new_time and HALF.fullmatch(new_time[0]) and HALF.search(out):
            out = HALF.sub(new_time[0], out, count=1)
        elif new_time and HALF.fullmatch(new_time[0]) and YEAR.search(out):
            year = YEAR.search(out).group(0)  # "那上半年呢？" after "2016年…": 2016年上半年
            out = out.replace(year, year + new_time[0], 1)
        elif new_time:
            out = _replace(out, _times(out), new_time)
        out = _replace(out, ORDINAL.findall(out), new_meeting) if new_meeting else out
        if out == prev.question and not any(t in out for t in new_time + new_meeting):
            # the previous question named no year or meeting: put it in front
            out = "".join(new_time + new_meeting) + out
        return out
    if PERSON.search(core) and prev.speaker:
        return PERSON.sub(prev.speaker, core, count=1) + "？"
    if REPORT.search(core) and prev.title:
        return REPORT.sub(f"《{prev.title}》", core, count=1) + "？"
    if THING.search(core) or REPORT.search(core) or PERSON.search(core):
        # "这些项目…", or a pronoun with no known referent: search with the previous question's topic
        return f"{TAIL.sub('', prev.question)}，{core}？"
    if PREDICATE.match(core) and (subject := _subject(prev.question)):
        # "那增长了多少？" after "…地区生产总值是多少？": the same subject, a new predicate
        return f"{core}{subject}？" if WHY.match(core) else f"{subject}{core}？"
    if swapped := _swap_topic(prev.question, core):
        # "那固定资产投资呢？" after "拱墅区2020年上半年地区生产总值增长了多少？": a new topic, the same
        # place, time and question
        return swapped
    # elliptical ("安置房呢？"): a new topic in the previous question's time and meeting
    context = "".join(t for t in _times(prev.question) + ORDINAL.findall(prev.question) if t not in core)
    if context:
        return f"{context}{core}？"
    return f"{TAIL.sub('', prev.question)}，{core}？"


def _swap_topic(question: str, topic: str) -> str | None:
    """The previous question about `topic` instead: what comes before its topic (place, time) and
    what it asks of it kept; None when it does not ask a measure of a topic."""
    q = TAIL.sub("", question)
    m = MEASURE.search(q)
    if not m:
        return None
    head = q[:m.start()]
    times = list(YEAR.finditer(head)) or list(HALF.finditer(head))
    context, old = (head[:times[-1].end()], head[times[-1].end():]) if times else ("", head)
    if place := PLACE.match(old):  # "2016年上半年拱墅区…": the place stays too
        context, old = context + place.group(0), old[place.end():]
    if len(old) < 2 or topic in old or old in topic:
        return None
    return f"{context}{topic}{q[m.start():]}？"


def _subject(question: str) -> str:
    """What a question asks about: "2016年上半年地区生产总值是多少？" → "2016年上半年地区生产总值"."""
    subject = ASKED.sub("", TAIL.sub("", question)).strip("，,、 ")
    return subject if subject != TAIL.sub("", question) else ""


def _times(text: str) -> list[str]:
    found = YEAR.findall(text)
    if not found:
        found = HALF.findall(text)
    return found


def _replace(text: str, old: list[str], new: list[str]) -> str:
    if not old:
        return text
    text = text.replace(old[0], "".join(new), 1)
    for extra in old[1:]:
        text = text.replace(extra, "", 1)
    return text
