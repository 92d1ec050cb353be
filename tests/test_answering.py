import pytest

from qa.answering import NOT_FOUND, analyse, answer, report_fact
from qa.features import SENTENCE_FEATURES
from qa.answering import choose_span
from qa.extract import numbers, question_kind
from qa.features import read_question
from qa.spans import SPAN_FEATURES, candidates, list_balance, span_matrix
from qa.learned import load
from qa.lexical import BM25, tokenize
from qa.normalize import for_matching
from qa.notices import refusal_reason
from qa.types import Document, Hit, Passage

TEXTS = {
    "d0": "城中村改造完成拆迁和整治5500户,新建安置房100万平方米。全区经济稳步增长。",
    "d1": "地铁 5 号线站点建设全面开工。运河财富小镇加快建设，引进金融企业30家。",
    "d2": "2017年，全区地区生产总值增长8%。重点推进城中村改造、老旧小区改造、未来社区建设。",
    "d3": "城中村改造完成拆迁和整治3000户。",
    "d4": "明年，城中村改造计划拆迁2000户。",
}
DATES = {"d0": "2016-07-28", "d1": "2016-07-28", "d2": "2017-01-05", "d3": "2017-03-01", "d4": "2016-12-28"}
DOCUMENTS = {d: Document(d, f"{d}.txt", t, f"报告{d}", date=DATES[d]) for d, t in TEXTS.items()}
PASSAGES = {d: Passage(f"{d}:0-{len(t)}:x", d, t, 0, len(t), "一、主要工作") for d, t in TEXTS.items()}
BM = BM25.build([tokenize(f"{p.section}\n{p.text}") for p in PASSAGES.values()])


def hits(*doc_ids) -> list[Hit]:
    return [Hit(PASSAGES[d], 0.03 - 0.001 * n, {"bm25": 1.0, "dense": None}) for n, d in enumerate(doc_ids)]


def ask(question, *doc_ids, min_confidence=None):
    return answer(question, hits(*doc_ids), BM.idf, min_confidence, DOCUMENTS, BM.knows)


@pytest.mark.parametrize("question, kind", [
    ("要拆迁多少户？", "number"),
    ("新建了几所学校？", "number"),
    ("GDP比重多大", "number"),
    ("什么时候召开的？", "date"),
    ("哪一年开工", "date"),
    ("會議何時召開？", "date"),  # traditional
    ("潘仕成逝世的时间是？", "date"),
    ("会议在什么时间召开？", "date"),
    ("十二大决定用三年时间整党，预计要把多少名不合格党员开除出党？", "number"),  # 时间 said, not asked
    ("两国政府为此谈判了多长时间？", "number"),  # a duration: 将近一年
    ("报告是谁作的？", "person"),
    ("哪位领导讲话", "person"),
    ("会议在哪里召开？", "place"),
    ("有哪些重点项目？", "list"),
    ("城中村改造进展如何", None),
    ("", None),
])
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def span(question: str, sentence: str) -> str | None:
    """The short answer the shipped span model picks in sentence."""
    q = read_question(question, BM.idf, BM.knows, {})
    return choose_span(q, sentence, load())[0]


def typed(sentence: str, question: str, kind: str) -> list[str]:
    return [s.text for s in candidates(sentence, question)[0] if s.type == kind]


def test_the_span_model_prefers_the_asked_unit():
    sentence = "城中村改造完成拆迁和整治5500户,新建安置房100万平方米。"
    assert span("要拆迁多少户？", sentence) == "5500户"
    assert span("新建安置房多少平方米？", sentence) == "100万平方米"


def test_a_span_veto_passes_a_level_over_for_a_change_asked():
    import dataclasses

    question = "重庆2024年地区生产总值增长了多少？"
    sentence = "全年地区生产总值达到32193.15亿元、增长5.7%，人均地区生产总值突破10万元。"
    q = read_question(question, lambda t: 1.0, lambda t: True, {})
    models = dataclasses.replace(load(), span_vetoes=["change_as_level"])
    assert choose_span(q, sentence, models)[0] == "5.7%"
    # no number in the sentence is a change: the veto has nothing to prefer, the level stays a candidate
    assert choose_span(q, "全年地区生产总值达到32193.15亿元。", models)[0] == "32193.15亿元"
    # the shipped model's vetoes, chosen from the data, include it: a level asked is still answered with it
    assert "change_as_level" in load().span_vetoes
    assert span(question, sentence) == "5.7%"
    assert span("重庆2024年地区生产总值达到多少？", sentence) == "32193.15亿元"


def test_numbers_of_the_question_and_years_are_no_answer():
    assert numbers("地铁 5 号线站点建设全面开工", "地铁5号线有几个站") == []
    assert span("地铁5号线有几个站", "地铁5号线设站12个。") == "12个"
    assert [m.group() for m in numbers("2017年新增就业12000人。", "新增就业多少人？")] == ["12000人"]


@pytest.mark.parametrize("sentence, expected", [
    ("会议于2016年7月28日召开。", "2016年7月28日"),
    ("要在10月底前完成全部拆迁。", "10月底前"),
    ("项目将于2018年6月开工。", "2018年6月"),
    ("今年没有安排。", None),
    ("中美两国自从一九七九年建交以来", "一九七九年"),  # Chinese numerals, as older reports write dates
    ("大会于一九八二年九月一日开幕。", "一九八二年九月一日"),
    ("到二○○○年的二万八千亿元左右。", "二○○○年"),
    ("要在三月底前完成。", "三月底前"),
    ("二十一年来没有变化。", None),
])
def test_dates_are_candidates(sentence, expected):
    found = typed(sentence, "什么时候？", "date")
    assert (expected in found) if expected else found == []


def test_an_ordinal_is_a_candidate_only_when_one_is_asked():
    sentence = "高速公路里程从居世界第三十九位跃升到第二位。"
    assert "第三十九位" in typed(sentence, "五年前高速公路里程排在世界第几位？", "number")
    assert typed(sentence, "高速公路里程有多少？", "number") == []
    assert question_kind("排在世界第几位？") == "number"


@pytest.mark.parametrize("question, sentence, expected", [
    ("信访总量是增加了还是减少了？", "信访总量件次、人次分别下降40.5%、36.6%。", {"下降40.5%", "下降"}),
    ("赤字率是调高了还是调低了？", "今年赤字率拟按3.2%左右安排、比去年有所下调。", {"有所下调"}),
    ("中央财政赤字是多了还是少了？差多少？", "中央财政赤字1800亿元，比去年减少650亿元。", {"减少650亿元", "减少"}),
    ("居民消费价格是涨了还是跌了？", "居民消费价格上涨0.2%。", {"上涨0.2%", "上涨"}),
])
def test_which_way_questions_have_the_way_as_candidates(question, sentence, expected):
    assert question_kind(question) == "direction"
    assert set(typed(sentence, question, "direction")) == expected
    assert typed(sentence, "增长了多少？", "direction") == []  # only when the way is asked


def test_an_ordinal_asked_in_traditional_characters_is_a_candidate_with_its_counter():
    assert "第265任" in typed("本篤十六世是羅馬天主教會第265任教宗。", "本篤十六世是第幾任教宗？", "number")


@pytest.mark.parametrize("sentence, expected", [
    # items longer than ten characters, the verb before the first and 等 after the last cut on word bounds
    ("全面启动和组织实施大型飞机、水体污染控制与治理、大型油气田及煤层气开发等16个国家重大专项。",
     "大型飞机、水体污染控制与治理、大型油气田及煤层气开发"),
    ("重工業包括冶金工業、燃料工業、動力工業、機械製造工業和化學工業。", "冶金工業、燃料工業、動力工業、機械製造工業和化學工業"),
])
def test_lists_are_candidates_with_their_bounds_on_word_bounds(sentence, expected):
    listed = typed(sentence, "有哪些？", "list")
    assert expected in listed
    assert all(sentence.find(x) >= 0 for x in listed)  # copied verbatim


def test_a_list_ends_before_the_count_that_follows_it():
    listed = typed("坚持保护性开发，新建祥符桥、运河湾两大历史文化街区。", "新建哪两个历史文化街区？", "list")
    assert "祥符桥、运河湾" in listed and not any("两大" in x for x in listed)
    assert "5号线、6号线" in typed("开工地铁5号线、6号线三条线路。", "开工哪些地铁线？", "list")  # a number inside an item stays


def test_a_list_whose_first_or_last_item_stands_out_is_marked_off():
    assert list_balance("皋亭、石塘") == (0.0, 0.0)
    first, last = list_balance("强力推进皋亭、石塘")  # the verb before the first item
    assert first > 1.0
    assert list_balance("量子信息、聚变能源、深空")[1] > 0.5  # the last item cut inside a word
    assert list_balance("量子信息、聚变能源、深空探测") == (0.0, 0.0)
    assert list_balance("1972年") == (0.0, 0.0)  # not a list


@pytest.mark.parametrize("question, sentence, expected, other", [
    ("周恩來及尼克森在哪一年發表《聯合公報》?", "1972年2月，周恩來及尼克森在上海發表《聯合公報》。", "1972年", "1972年2月"),
    ("这场运动发生在哪个年代？", "这场运动发生在1980年代。", "1980年代", "1980"),
    ("大会在几月召开？", "大会于2017年1月5日召开。", "2017年1月", "2017年1月5日"),
    ("大会是几月几号开的？", "大会于2017年1月5日召开。", "2017年1月5日", "2017年1月"),
])
def test_a_date_of_the_precision_asked_is_marked(question, sentence, expected, other):
    q = read_question(question, lambda t: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, sentence)
    grain = {s.text: X[i, SPAN_FEATURES.index("grain_match")] for i, s in enumerate(spans)}
    assert grain[expected] == 1.0 and grain.get(other, 0.0) == 0.0


def test_people_places_lists_and_quotes_are_candidates():
    assert "许明" in typed("会上许明同志作了报告。", "谁作了报告？", "person")
    assert "拱墅区" in typed("项目落户在拱墅区。", "项目在哪里？", "place")
    listed = typed("重点推进城中村改造、老旧小区改造、未来社区建设。", "有哪些重点工作？", "list")
    assert any("老旧小区改造、未来社区建设" in x for x in listed)
    assert "“最多跑一次”" in typed("“最多跑一次”和“五水共治”两项改革。", "哪两项改革？", "quote")


def check_citation(result):
    assert result.answerable is True
    assert result.answer.endswith("[1]")
    assert [c.n for c in result.citations] == [1]
    c = result.citations[0]
    assert c.quote and c.quote in c.hit.passage.text  # verbatim from the passage
    assert c.hit in result.hits
    assert result.refusal == ""
    return c


def test_answer_a_well_supported_question():
    result = ask("城中村改造要拆迁多少户？", "d0", "d1")
    c = check_citation(result)
    assert c.hit.passage.doc_id == "d0"
    assert c.quote == "城中村改造完成拆迁和整治5500户,新建安置房100万平方米。"
    assert result.short_answer == "5500户"
    assert "5500户" in result.answer
    assert load().threshold <= result.confidence <= 1


def test_answer_picks_the_right_passage_among_hits():
    result = ask("运河财富小镇引进了多少家金融企业？", "d0", "d1")
    c = check_citation(result)
    assert c.hit.passage.doc_id == "d1"
    assert c.quote == "运河财富小镇加快建设，引进金融企业30家。"
    assert result.short_answer == "30家"


def test_answer_without_a_short_answer_kind():
    # the form of such an answer, whatever the confidence and the refusal threshold of the day
    result = ask("城中村改造进展怎么样", "d0", min_confidence=0.0)
    c = check_citation(result)
    assert result.short_answer is None or result.short_answer in c.quote  # only a span the span model is sure of


def test_an_abbreviation_asked_is_found_as_the_report_spells_it_out():
    # no report says "CPI": the question was refused as "nothing about cpi"
    text = "今年主要预期目标是：地区生产总值增长5%左右，居民消费价格涨幅2%左右，城镇新增就业60万人。"
    doc = Document("p", "p.txt", text, "2025年政府工作报告", date="2025-01-15")
    passage = Passage(f"p:0-{len(text)}:x", "p", text, 0, len(text), "二、2025年目标任务")
    bm = BM25.build([tokenize(f"{passage.section}\n{passage.text}")])
    result = answer("2025年CPI涨幅目标是多少？", [Hit(passage, 0.03, {"bm25": 1.0, "dense": None})], bm.idf, None,
                    {"p": doc}, bm.knows)
    assert result.answerable and result.short_answer == "2%左右"


@pytest.mark.parametrize("question", [
    "宁波的城中村改造要拆迁多少户？",  # a place the passages never name
    "养老服务中心建成几家？",  # nothing about it at all
])
def test_answer_refuses_what_the_passages_do_not_say(question):
    result = ask(question, "d0", "d1")
    assert result.answerable is False
    assert result.answer == NOT_FOUND
    assert result.citations == [] and result.short_answer is None
    assert result.refusal
    assert len(result.hits) == 2  # the retrieved passages are still reported


def test_refusal_reasons():
    assert "宁波" in ask("宁波的城中村改造要拆迁多少户？", "d0").refusal
    # a year no passage or report date speaks of: refused, or at best a low-confidence answer
    other_year = ask("2019年城中村改造拆迁多少户？", "d0")
    assert not other_year.answerable or other_year.confidence < 0.5
    assert ask("城中村改造拆迁多少户？", "d0").confidence > other_year.confidence
    assert "2019" in ask("2019年城中村改造拆迁多少户？", "d0", min_confidence=0.9).refusal


def test_answer_with_the_year_asked():
    result = ask("2017年地区生产总值增长多少？", "d0", "d2")
    c = check_citation(result)
    assert c.hit.passage.doc_id == "d2"
    assert result.short_answer == "8%"


def test_answer_prefers_evidence_from_the_year_asked():
    # neither passage names the year: the report's date decides
    result = ask("2017年城中村改造拆迁多少户？", "d0", "d3")
    assert check_citation(result).hit.passage.doc_id == "d3"
    assert result.short_answer == "3000户"
    without_year = ask("城中村改造拆迁多少户？", "d0", "d3")
    assert without_year.citations[0].hit.passage.doc_id == "d0"


def test_a_year_end_report_speaks_for_the_next_year():
    result = ask("2017年城中村改造计划拆迁多少户？", "d0", "d4")
    assert check_citation(result).hit.passage.doc_id == "d4"
    assert result.short_answer == "2000户"
    other = ask("2017年城中村改造计划拆迁多少户？", "d0")  # a mid-2016 report's result: not the 2017 plan
    assert not other.answerable or other.confidence < 0.5
    assert other.confidence < result.confidence


def test_answer_with_no_hits_is_refused():
    result = answer("城中村改造要拆迁多少户？", [], BM.idf, None, DOCUMENTS, BM.knows)
    assert result.answerable is False
    assert result.answer == NOT_FOUND
    assert result.citations == [] and result.hits == []


def test_a_higher_confidence_threshold_refuses_more():
    question = "安置房的户型设计"
    assert ask(question, "d0", min_confidence=0.0).answerable
    assert not ask(question, "d0", min_confidence=0.999).answerable


def test_report_fact_answers_who_gave_a_report_from_its_head():
    text = "政府工作报告\n(2017年1月5日)\n章 燕\n各位代表：过去一年成绩显著。"
    doc = Document("r", "r.txt", text, "政府工作报告", date="2017-01-05", speaker="章燕",
                   meeting="区七届人大一次会议")
    head = Passage("r:0-30:x", "r", text, 0, len(text))
    hit = [Hit(head, 0.02)]
    who = report_fact("政府工作报告是谁作的？", hit, {"r": doc}, lambda d: head)
    assert who.answerable and who.short_answer == "章 燕"
    assert who.citations[0].quote == "章 燕" and who.citations[0].quote in head.text
    when = report_fact("政府工作报告是什么时候作的？", hit, {"r": doc}, lambda d: head)
    assert when.short_answer == "2017年1月5日"
    assert when.citations[0].quote in head.text
    assert report_fact("城中村改造是什么时候开始的？", hit, {"r": doc}, lambda d: head) is None
    # a question about what a report says, not about the report ("工作" is not "作")
    assert report_fact("1954年政府工作报告说第一个五年计划是从哪一年开始的？", hit, {"r": doc}, lambda d: head) is None
    assert report_fact("政府工作报告中城中村改造是哪一年开始的？", hit, {"r": doc}, lambda d: head) is None


def test_report_fact_reads_a_traditional_head():
    """The speaker and date metadata are read simplified ("胡衡华"); the head says "胡衡華": the answer
    quotes the head as written."""
    text = "2025年重慶市政府工作報告\n——2025年1月19日在重慶市第六屆人民代表大會第三次會議上\n重慶市人民政府市長 胡衡華\n各位代表："
    doc = Document("r", "r.txt", text, "2025年重慶市政府工作報告", date="2025-01-19", speaker="胡衡华",
                   meeting="重庆市第六届人民代表大会第三次会议", place="重庆市")
    head = Passage("r:0-80:x", "r", text, 0, len(text))
    who = report_fact("重庆2025年政府工作报告是谁代表市政府作的？", [Hit(head, 0.02)], {"r": doc}, lambda d: head)
    assert who is not None and who.short_answer == "胡衡華" and who.citations[0].quote in head.text
    assert "在重慶市第六屆人民代表大會第三次會議上" in who.answer  # in one script, the report's
    office = report_fact("重慶市長是誰？", [Hit(head, 0.02)], {"r": doc}, lambda d: head)
    assert office is not None and office.short_answer == "胡衡華" and "市長胡衡華" in office.answer
    when = report_fact("重庆2025年政府工作报告是哪天作的？", [Hit(head, 0.02)], {"r": doc}, lambda d: head)
    assert when is not None and when.short_answer == "2025年1月19日"


@pytest.mark.parametrize("question, answered", [
    ("政府工作报告是谁作的？", True),
    ("2017年拱墅区政府工作报告是谁作的？", True),
    ("2025年安徽省政府工作报告是哪位省长作的？", False),  # another year and place: another report's fact
    ("安徽省政府工作报告是谁作的？", False),
    ("2021年政府工作报告是在哪一天作的？", False),
    ("十五大报告是什么时候作的？", False),  # another meeting
])
def test_report_fact_is_never_another_reports(question, answered):
    found = fact_of_one_report(question, "政府工作报告\n(2017年1月5日)\n章 燕\n各位代表：过去一年成绩显著。", "政府工作报告",
                               date="2017-01-05", speaker="章燕", meeting="拱墅区第七届人民代表大会第一次会议",
                               place="杭州市拱墅区")
    assert (found is not None and found.answerable) == answered


def fact_of_one_report(question: str, text: str, title: str, **meta):
    """report_fact over an index of one report whose head passage is `text`."""
    doc = Document("r", "r.txt", text, title, **meta)
    head = Passage(f"r:0-{len(text)}:x", "r", text, 0, len(text))
    return report_fact(question, [Hit(head, 0.02)], {"r": doc}, lambda d: head)


@pytest.mark.parametrize("question, short", [
    ("黑龙江省代省长是谁？", "梁惠玲"),  # the head says 省长: the office asked, without 代
    ("黑龙江省长叫什么名字？", "梁惠玲"),
    ("省长是谁？", "梁惠玲"),
    ("黑龙江省副省长是谁？", None),  # another office: not the speaker's
    ("黑龙江省的市长是谁？", None),  # the head names no 市长
    ("吉林省长是谁？", None),  # another province: refused by report_fact
])
def test_who_holds_the_speakers_office_is_read_from_the_head(question, short):
    text = "2025年黑龙江省政府工作报告\n2025年1月13日在黑龙江省第十四届人民代表大会第三次会议上\n省长 梁惠玲\n各位代表："
    found = fact_of_one_report(question, text, "2025年黑龙江省政府工作报告", date="2025-01-13", speaker="梁惠玲",
                               meeting="黑龙江省第十四届人民代表大会第三次会议", place="黑龙江省")
    if short is None:
        assert found is None or not found.answerable
    else:
        assert found.short_answer == short and "省长梁惠玲" in found.answer
        assert found.citations[0].quote == "省长 梁惠玲"


def test_who_gave_a_report_no_index_holds_is_refused_not_answered_from_another():
    text = "政府工作报告\n(2017年1月5日)\n章 燕\n各位代表：2019年计划拆迁3000户，力争2019年完成改造。"
    doc = Document("r", "r.txt", text, "政府工作报告", date="2017-01-05", speaker="章燕", place="杭州市拱墅区")
    head = Passage("r:0-60:x", "r", text, 0, len(text))
    refused = report_fact("2025年安徽省政府工作报告是谁作的？", [Hit(head, 0.02)], {"r": doc}, lambda d: head)
    assert refused is not None and not refused.answerable and "no report indexed" in refused.refusal
    # a report whose year is not known may be the one: the question goes on to the answerer
    undated = Document("u", "u.txt", text, "政府工作报告", place="杭州市拱墅区")
    assert report_fact("2019年拱墅区政府工作报告是谁作的？", [Hit(head, 0.02)], {"r": doc, "u": undated},
                       lambda d: None) is None


def test_a_deputy_asked_is_not_answered_with_the_speaker():
    from qa.answering import answer

    text = "2025年1月18日在河南省第十四届人民代表大会第三次会议上河南省人民政府省长王凯作政府工作报告"
    doc = Document("h", "h.txt", text, "2025年河南省政府工作报告", speaker="王凯", place="河南省")
    hit = Hit(Passage(f"h:0-{len(text)}:x", "h", text, 0, len(text)), 1.0, {})
    deputy = answer("河南省副省长是谁？", [hit], lambda w: 1.0, 0.0, {"h": doc}, head=lambda d: None)
    assert not deputy.answerable and "deputy" in deputy.refusal
    principal = answer("河南省长是谁？", [hit], lambda w: 1.0, 0.0, {"h": doc}, head=lambda d: None)
    assert principal.answerable and principal.short_answer == "王凯"


@pytest.mark.parametrize("question, text, short", [
    # 总书记 is not the 省委书记 asked: was 习近平 at 0.44
    ("河南省委书记是谁？", "我们坚持以习近平新时代中国特色社会主义思想为指导，牢记习近平总书记的殷殷嘱托。", None),
    ("河南省委书记是谁？", "会议由河南省委书记刘宁主持。", "刘宁"),
    ("厦门大学首任校长是谁？", "1950年5月，中央人民政府任命经济学家王亚南教授为厦门大学校长。", "王亚南"),
])
def test_who_holds_an_office_is_answered_only_from_a_sentence_naming_it(question, text, short):
    from qa.answering import answer, office_said

    doc = Document("d", "d.txt", text, "文章")
    hit = Hit(Passage(f"d:0-{len(text)}:x", "d", text, 0, len(text)), 1.0, {})
    result = answer(question, [hit], lambda w: 1.0, 0.0, {"d": doc}, head=lambda d: None)
    assert result.short_answer == short and result.answerable == bool(short)
    assert office_said("法国的首都是哪里？", "")  # a question asking no office holder


@pytest.mark.parametrize("text, short", [
    ("2019年计划拆迁3000户，力争2019年完成改造。", None),  # no name: "力争" was answered at 0.68
    ("2019年政府工作报告由区长王建国代表区政府作出。", "王建国"),  # a sentence that names the speaker
])
def test_who_gave_a_report_no_head_names_is_answered_only_with_a_name(text, short):
    from qa.answering import answer

    undated = Document("u", "u.txt", text, "政府工作报告", place="杭州市拱墅区")
    hit = Hit(Passage(f"u:0-{len(text)}:x", "u", text, 0, len(text)), 1.0, {})
    result = answer("2019年拱墅区政府工作报告是谁作的？", [hit], lambda w: 1.0, 0.0, {"u": undated},
                    head=lambda d: None)
    if short is None:
        assert not result.answerable and result.refusal == "no speaker named for the report asked about"
    else:
        assert result.answerable and result.short_answer == short


def test_number_question_does_not_cite_an_unrelated_number():
    from qa.answering import answer
    from qa.types import Hit, Passage

    text = "地铁 5 号线站点建设全面开工。运河财富小镇加快建设，引进金融企业三十家。"
    hit = Hit(Passage("p", "d", text, 0, len(text)), 1.0, {})
    result = answer("运河财富小镇引进了多少家金融企业？", [hit], lambda w: 1.0)
    assert not (result.answerable and result.short_answer == "5")


def make(texts: dict, **meta):
    """Documents, one passage each, and the BM25 statistics over them."""
    docs = {d: Document(d, f"{d}.txt", t, meta.get(d, {}).get("title", f"报告{d}"),
                        **{k: v for k, v in meta.get(d, {}).items() if k not in ("title", "section")}) for d, t in texts.items()}
    passages = [Passage(f"{d}:0-{len(t)}:x", d, t, 0, len(t), meta.get(d, {}).get("section", "")) for d, t in texts.items()]
    bm = BM25.build([tokenize(f"{p.section}\n{p.text}") for p in passages])
    hits = [Hit(p, 0.03 - 0.001 * n, {}) for n, p in enumerate(passages)]
    def asker(q, min_confidence=None):
        return answer(q, hits, bm.idf, min_confidence, docs, bm.knows)
    asker.analysis = lambda q: analyse(q, hits, bm.idf, docs, bm.knows)
    return asker


def test_the_named_report_answers_not_a_sentence_that_mentions_it():
    ask2 = make({
        "gov": "我们要按照区第七次党代会的部署，立足当前、着眼长远，奋发有为。全年新建学校10所。",
        "congress": "坚持保护性开发，新建祥符桥、运河湾两大历史文化街区。",
    }, congress={"meeting": "区第七次党代会", "kind": "党代会报告"})
    a = ask2.analysis("区第七次党代会报告提出新建哪两个历史文化街区？")
    assert a.candidates[a.best].hit.passage.doc_id == "congress"
    assert a.short == "祥符桥、运河湾"


def test_a_list_item_keeps_its_lead_in():
    ask2 = make({"plan": "今年主要预期目标建议为:地区生产总值增长8%;完成固定资产投资370亿元;",
                 "done": "全年完成固定资产投资446.7亿元,同比增长10%。"})
    result = ask2("全年固定资产投资目标是多少？")
    assert result.short_answer == "370亿元"
    assert result.answer == "今年主要预期目标建议为:…完成固定资产投资370亿元[1]"  # the item says what it is an item of
    assert result.citations[0].quote == "完成固定资产投资370亿元;"


def test_plans_and_results_are_told_apart():
    ask2 = make({"a": "五年累计新建学校38所。", "b": "今后五年，计划新建学校36所。"})
    assert ask2("今后五年计划新建多少所学校？").short_answer == "36所"
    assert ask2("过去五年累计新建了多少所学校？").short_answer == "38所"


PARKING = {"a": "投用公共停车场33个,新增停车泊位6948个。", "b": "全区新建公园5个。"}


def test_a_paraphrase_that_shares_the_characters_is_supported():
    result = make(PARKING)("五年新增了多少个停车位？")
    assert result.answerable and "6948个" in result.citations[0].quote


# A close call for the learned span model, which retraining has turned both ways (33个 scored 1.67
# against 1.53 for 6948个 once): not strict.
@pytest.mark.xfail(strict=False, reason="the learned span model may prefer 33个 (公共停车场) here")
def test_a_paraphrase_gets_the_count_it_asks_for():
    assert make(PARKING)("五年新增了多少个停车位？").short_answer == "6948个"


def test_a_name_one_character_off_still_counts():
    ask2 = make({"a": "确保年底前生活垃圾分类管理区域内分类覆盖率达100%。"}, a={"section": "区域管局"})
    assert ask2("城管局要求年底前垃圾分类覆盖率达到多少？").answerable
    refused = ask2("宁波市要求年底前垃圾分类覆盖率达到多少？")
    assert not refused.answerable and "宁波" in refused.refusal


def test_report_fact_finds_the_speaker_in_a_sentence_when_there_is_no_speaker_line():
    text = "8月13日，区文广新局传达区委七届四次全会精神，学习朱建明书记报告。"
    doc = Document("n", "n.txt", text, "新闻", speaker="朱建明", meeting="区委七届四次全会")
    passage = Passage("n:0-40:x", "n", text, 0, len(text))
    result = report_fact("区委七届四次全会的报告是哪位书记作的？", [Hit(passage, 0.02)], {"n": doc},
                         lambda d: passage)
    assert result.answerable and result.short_answer == "朱建明"
    assert "朱建明" in result.citations[0].quote and result.citations[0].quote in text


def test_a_reason_comes_with_the_sentences_around_the_claim():
    ask2 = make({"a": "拱墅有着深厚的产业基础。推进国际化势在必行。我们完全有信心。"})
    result = ask2("为什么说推进国际化势在必行？")
    assert "产业基础" in result.answer and "势在必行" in result.answer
    assert result.citations[0].quote in result.citations[0].hit.passage.text


def test_the_date_of_a_report_names_it():
    ask2 = make({"july": "(2016年7月28日)\n全面推进城中村改造，确保2020年全部完成。",
                 "dec": "全面推进城中村改造，确保2018年全部完成。"},
                july={"date": "2016-07-28", "meeting": "区委全会"}, dec={"date": "2016-12-28", "meeting": "党代会"})
    result = ask2("2016年7月的全会报告提出城中村改造哪年全部完成？")
    assert result.citations[0].hit.passage.doc_id == "july" and result.short_answer == "2020年"


def test_chinese_numerals_answer_a_question_in_digits():
    ask2 = make({"a": "今年新建口袋公园四十二个，引进高层次人才二百五十六名。", "b": "全区经济稳步增长。"})
    assert ask2("今年新建口袋公园多少个？").short_answer == "四十二个"
    assert ask2("引进了多少名高层次人才？").short_answer == "二百五十六名"


def test_an_undated_report_is_not_about_another_year():
    texts = {"a": "城中村改造完成拆迁和整治5500户。"}
    undated = make(texts)("2017年城中村改造拆迁多少户？")
    dated = make(texts, a={"date": "2012-01-05"})("2017年城中村改造拆迁多少户？")
    assert undated.confidence > dated.confidence
    assert "2017" not in undated.refusal


def test_confidence_is_a_probability_in_the_json_shape():
    result = ask("城中村改造要拆迁多少户？", "d0", "d1")
    refused = ask("养老服务中心建成几家？", "d0", "d1")
    assert 0 <= refused.confidence < result.confidence <= 1


def features_of(a, doc_id):
    """The named features of the best candidate sentence of doc_id."""
    c = max((c for c in a.candidates if c.hit.passage.doc_id == doc_id), key=lambda c: a.scores[a.candidates.index(c)])
    return dict(zip(SENTENCE_FEATURES, c.x))


def test_features_see_another_year_a_plan_and_the_asked_unit():
    ask2 = make({"a": "明年，城中村改造计划拆迁4000户。", "b": "五年累计拆迁4874户，同比增长5%。",
                 "c": "开工地铁2号线、5号线相关站点。"}, a={"date": "2016-12-28"}, b={"date": "2016-12-28"})
    f = features_of(ask2.analysis("2016年计划拆迁多少户？"), "a")
    # "明年" in a 2016 report is 2017; a report of December 2016 plans 2017 and reviews 2016
    assert f["year_other"] == 1 and f["year_doc_next"] == 1 and f["year_doc_other"] == 0
    f = features_of(ask2.analysis("2017年计划拆迁多少户？"), "a")
    assert f["year_other"] == 0 and f["year_doc"] == 1
    assert features_of(ask2.analysis("计划拆迁多少户？"), "b")["tense"] == -1  # a result, a plan asked
    assert features_of(ask2.analysis("累计拆迁了多少户？"), "b")["tense"] == 1
    assert features_of(ask2.analysis("地铁5号线设了几个站点？"), "c")["unit_ok"] == 0
    assert features_of(ask2.analysis("城中村改造拆迁了多少户？"), "b")["unit_ok"] == 1


def test_a_number_in_another_unit_than_asked_is_seen_and_a_refusal_says_so():
    from qa.spans import ANSWERABLE_FEATURES

    ask = make({"a": "新开工改造城镇老旧小区3011万平方米。"})
    question = "新开工改造的城镇老旧小区是多少个？"
    assert dict(zip(ANSWERABLE_FEATURES, ask.analysis(question).z))["span_unit_clash"] == 1
    assert dict(zip(ANSWERABLE_FEATURES, ask.analysis("新开工改造城镇老旧小区多少万平方米？").z))["span_unit_clash"] == 0
    refused = ask(question, min_confidence=0.999)  # how sure the model is, is the model's; the reason is ours
    assert not refused.answerable
    assert refused.refusal == "the number found (3011万平方米) is not in the unit asked (个)"
    assert refusal_reason(refused.refusal, "zh") == "找到的数字（3011万平方米）不是问的单位（个）"


def test_a_change_asked_of_a_sentence_that_gives_only_a_level_is_seen():
    ask2 = make({"a": "新能源汽车产量突破70万辆。", "b": "新能源汽车产量增长35%。", "c": "森林覆盖率达到62%。"})
    assert features_of(ask2.analysis("新能源汽车产量增长了多少？"), "a")["change_unsaid"] == 1
    # a change said in another clause is not a change of what is asked
    ask3 = make({"a": "新能源汽车保有量超100万辆，绿色电力占比达到26%，企业治理水平提升。"})
    assert features_of(ask3.analysis("新能源汽车保有量增加了多少万辆？"), "a")["change_unsaid"] == 1
    assert features_of(ask2.analysis("新能源汽车产量增长了多少？"), "b")["change_unsaid"] == 0
    assert features_of(ask2.analysis("新能源汽车产量是多少？"), "a")["change_unsaid"] == 0
    refused = make({"a": "新能源汽车产量突破70万辆。"})("新能源汽车产量比上年增长了多少？")
    assert not refused.answerable  # the data made it a veto
    assert refused.refusal == "the sentence found gives an amount, not the change asked"
    assert refusal_reason(refused.refusal, "zh") == "找到的句子只给出数量，没有说问的增减变化"
    assert features_of(ask2.analysis("森林覆盖率提高到多少？"), "c")["change_unsaid"] == 0  # a level asked
    # a change said before the question's own clause is context: a level is asked
    assert features_of(ask2.analysis("新能源汽车产量增长很快，现在是多少？"), "a")["change_unsaid"] == 0


def test_the_focus_of_a_question_is_read_around_its_question_word():
    from qa.features import WH, _focus, question_word

    def focus(question):
        folded = for_matching(question)
        return _focus(folded, question_word(WH, folded))

    assert focus("福建2024年海洋生产总值是多少亿元？") == ("海洋生产总值", "")
    assert focus("黑龙江2024年新增了多少张养老机构护理型床位？") == ("新增", "养老机构护理型床")
    assert focus("区委七届四次全会是哪一年召开的？") == ("区委7届4次全会", "召开")
    assert focus("谁发明了电话？") == ("", "发明了电话")


def test_a_sentence_missing_part_of_what_is_asked_about_is_seen():
    ask2 = make({"a": "全省地区生产总值57761亿元。", "b": "全省海洋生产总值1.2万亿元。", "c": "新增护理型床位5000张。"})
    a = ask2.analysis("海洋生产总值是多少亿元？")
    assert features_of(a, "a")["focus_left"] == 2 / 6 and features_of(a, "b")["focus_left"] == 0
    assert features_of(a, "c")["focus_left"] == 1  # none of it
    a = ask2.analysis("新增了多少张养老机构护理型床位？")
    assert features_of(a, "c")["focus_right"] == 1 and features_of(a, "c")["focus_left"] == 0
    assert features_of(ask2.analysis("谁发明了电话？"), "c")["focus_left"] == 0  # nothing before 谁: nothing missed


def test_a_year_the_sentence_names_is_no_other_year_of_the_report():
    ask2 = make({"a": "力争使全国工农业的年总产值翻两番，到二○○○年达到二万八千亿元左右。"}, a={"date": "1982-09-01"})
    f = features_of(ask2.analysis("到二○○○年工农业年总产值要达到多少？"), "a")
    assert f["year_said"] == 1 and f["year_doc_other"] == 0 and f["year_other"] == 0
    f = features_of(ask2.analysis("2001年工农业年总产值要达到多少？"), "a")
    assert f["year_doc_other"] == 1 and f["year_other"] == 1


def test_the_section_heading_says_which_half_of_a_work_report_a_sentence_is_in():
    ask2 = make({"a": "城镇新增就业29.9万人。", "b": "城镇新增就业不少于26万人。", "c": "城镇新增就业30万人。"},
                a={"date": "2025-01-14", "section": "一、2024年工作回顾"},
                b={"date": "2025-01-14", "section": "二、2025年工作总体要求和重点任务"},
                c={"section": "一、2024年工作回顾"})  # no date: which half is unknown
    a = ask2.analysis("城镇新增就业的目标是多少人？")
    assert features_of(a, "a")["section_year"] == -1 and features_of(a, "b")["section_year"] == 1
    assert features_of(a, "c")["section_year"] == 0
    # "回顾" in the heading says result, "去年" in the question asks one: they agree
    assert features_of(ask2.analysis("去年城镇新增就业多少人？"), "a")["tense"] == 1
    # no plan or result word, but a year: a report of 2025 plans 2025 and reviews 2024
    a = ask2.analysis("2024年城镇新增就业多少人？")
    assert features_of(a, "a")["section_tense"] == 1 and features_of(a, "b")["section_tense"] == -1
    assert features_of(a, "a")["tense"] == 1  # "回顾": a result, and a result asked by the year
    assert features_of(a, "c")["section_tense"] == 0  # no date: unknown, no mismatch
    a = ask2.analysis("2025年城镇新增就业多少人？")
    assert features_of(a, "a")["section_tense"] == -1 and features_of(a, "b")["section_tense"] == 1
    assert features_of(a, "a")["tense"] == -1
    # the year that names the report asks neither its plan nor its review; the year after it does
    assert features_of(ask2.analysis("2025年政府工作报告中城镇新增就业多少人？"), "b")["section_tense"] == 0
    assert features_of(ask2.analysis("2025年报告中2024年城镇新增就业多少人？"), "b")["section_tense"] == -1
    assert features_of(ask2.analysis("城镇新增就业要达到多少人？"), "a")["tense"] == -1  # 要: a plan asked


def test_a_refusal_says_when_the_sentence_gives_a_target_where_a_result_is_asked():
    target = make({"b": "城镇新增就业不少于26万人。"}, b={"date": "2025-01-14", "section": "二、2025年工作总体要求和重点任务"})
    refused = target("2024年城镇新增就业多少人？", min_confidence=0.999)  # the year asks the result
    assert refused.refusal == "the sentence found gives a target, not the result asked"
    assert refusal_reason(refused.refusal, "zh") == "找到的句子说的是目标，不是问的实际结果"
    result = make({"a": "城镇新增就业29.9万人。"}, a={"date": "2025-01-14", "section": "一、2024年工作回顾"})
    refused = result("2025年城镇新增就业目标是多少人？", min_confidence=0.999)
    assert refused.refusal == "the sentence found gives a result, not the target asked"
    assert refusal_reason(refused.refusal, "en") == "the sentence found gives a result, not the target asked"
    assert target("2025年城镇新增就业多少人？", min_confidence=0.999).refusal.startswith("confidence")  # they agree


def test_an_unknown_year_or_place_is_no_mismatch():
    ask2 = make({"a": "城中村改造完成拆迁和整治5500户。", "b": "城中村改造完成拆迁和整治3000户。"},
                b={"date": "2012-01-05", "place": "宁波市"})
    a = ask2.analysis("2017年杭州市城中村改造拆迁多少户？")
    undated, dated = features_of(a, "a"), features_of(a, "b")
    assert undated["year_unknown"] == 1 and undated["year_doc_other"] == 0
    assert dated["year_doc_other"] == 1 and dated["year_unknown"] == 0
    assert undated["place_other"] == 0 and dated["place_other"] == 1


def test_report_fact_reads_a_speaker_line_with_the_role_and_a_date_in_the_meeting_line():
    text = "2025年广东省政府工作报告\n——2025年1月15日在广东省第十四届人民代表大会第三次会议上\n广东省省长 王伟中\n各位代表："
    doc = Document("g", "g.txt", text, "2025年广东省政府工作报告", date="2025-01-15", speaker="王伟中",
                   meeting="广东省第十四届人民代表大会第三次会议")
    head = Passage("g:0-60:x", "g", text, 0, len(text))
    who = report_fact("广东省2025年政府工作报告是谁作的？", [Hit(head, 0.02)], {"g": doc}, lambda d: head)
    assert who.short_answer == "王伟中" and who.citations[0].quote == "广东省省长 王伟中"
    when = report_fact("这份政府工作报告是哪天作的？", [Hit(head, 0.02)], {"g": doc}, lambda d: head)
    assert when.short_answer == "2025年1月15日" and "第三次会议" in when.citations[0].quote


def test_a_veto_refuses_whatever_the_trees_say():
    import dataclasses

    models = load()
    free = dataclasses.replace(models, vetoes=[])
    vetoed = dataclasses.replace(models, vetoes=["best_missing"])
    q = "宁波的城中村改造要拆迁多少户？"  # 宁波: a named word the corpus never has
    a = analyse(q, hits("d0"), BM.idf, DOCUMENTS, BM.knows, vetoed)
    assert a.candidates[a.best].missing and a.confidence == 0.0
    plain = analyse(q, hits("d0"), BM.idf, DOCUMENTS, BM.knows, free)
    assert plain.confidence > 0
    fine = analyse("城中村改造要拆迁多少户？", hits("d0"), BM.idf, DOCUMENTS, BM.knows, vetoed)
    assert fine.confidence > 0  # no missing word: no veto


@pytest.mark.parametrize("question, places", [
    ("河北去年城镇新增就业多少人？", ["河北"]),  # 城镇 (towns) is no place
    ("拱墅区城中村改造新建了多少套安置房？", ["拱墅"]),
    ("宁波的港口吞吐量是多少？", ["宁波"]),
    ("十二大报告里说中美两国是哪一年建交的？", []),
    ("我国2020年粮食产量是多少？", []),
])
def test_the_places_a_question_names_are_places(question, places):
    from qa.features import read_question

    assert read_question(question, lambda t: 1.0, lambda t: True, {}).places == places


def test_a_number_asked_and_no_number_found_is_refused_and_says_so():
    from qa.spans import ANSWERABLE_FEATURES

    ask = make({"a": "今年中央财政预算用于支持这项改革的资金将达305亿元。"})
    question = "今年中央财政预算拿305亿元支持改革，那去年拿了多少钱？"  # its only number is the question's own
    z = dict(zip(ANSWERABLE_FEATURES, ask.analysis(question).z))
    assert z["number_off"] == 1 and z["span_off"] == 1 and z["date_off"] == 0
    assert "number_off" in load().vetoes  # the data made it one: a number asked is all but never answered so
    refused = ask(question)
    assert not refused.answerable
    assert refused.refusal == "the sentence found holds no number that answers it"
    assert refusal_reason(refused.refusal, "zh") == "找到的句子里没有回答该问题的数字"
    z = dict(zip(ANSWERABLE_FEATURES, ask.analysis("改革资金将达多少亿元？").z))
    assert z["number_off"] == 0 and z["span_off"] == 0


def test_a_number_in_a_unit_that_cannot_be_the_one_asked_is_refused_when_no_number_is_in_it():
    from qa.spans import ANSWERABLE_FEATURES

    ask = make({"a": "全区地区生产总值增长4.2%左右，外贸进出口总额增长9.4%。",
                "b": "全年新能源汽车产量增长94.5%、达168.4万辆。"})
    question = "2024年全区地区生产总值总量是多少亿元？"  # only growth rates: no amount in 亿元 to give
    z = dict(zip(ANSWERABLE_FEATURES, ask.analysis(question).z))
    assert z["span_unit_clash"] == 1 and z["unit_unsaid"] == 1
    assert "unit_unsaid" in load().vetoes  # the data made it one
    refused = ask(question)
    assert not refused.answerable and refused.refusal.startswith("the number found (")
    # the unit asked is in the sentence: a clashing short answer is no reason to refuse on its own
    z = dict(zip(ANSWERABLE_FEATURES, ask.analysis("2024年新能源汽车产量达到多少辆？").z))
    assert z["unit_unsaid"] == 0


def test_nouns_next_to_a_number_that_the_question_does_not_write_are_measured():
    """新能源 narrows 汽车产量 to a kind of car the question does not ask about."""
    q = read_question("重庆2024年汽车总产量是多少万辆？", lambda t: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, "新能源汽车产量达到95.3万辆，汽车产量达到357万辆")
    extra = {s.text: X[i, SPAN_FEATURES.index("extra_left")] for i, s in enumerate(spans)}
    assert extra["357万辆"] == 0.0 and 0.3 < extra["95.3万辆"] < 0.5


def test_a_period_the_question_does_not_name_is_marked_and_the_reverse():
    q = read_question("2007年新增了多少沼气用户？", lambda t: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, "五年新增沼气用户1650万户，今年新增500万户")
    unasked = {s.text: X[i, SPAN_FEATURES.index("period_unasked")] for i, s in enumerate(spans)}
    assert unasked["1650万户"] == 1.0 and unasked["500万户"] == 0.0
    q = read_question("一季度地区生产总值增长了多少？", lambda t: 1.0, lambda w: True, {})
    for sentence, unsaid in (("全年地区生产总值增长5.8%", 1.0), ("一季度地区生产总值增长5.8%", 0.0)):
        spans, X = span_matrix(q, sentence)
        assert {X[i, SPAN_FEATURES.index("period_unsaid")] for i, s in enumerate(spans) if s.text == "5.8%"} == {unsaid}
