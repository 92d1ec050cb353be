import pytest

from qa.answering import choose_span
from qa.extract import asked_noun, asked_unit, fits, numbers, question_kind
from qa.features import read_question
from qa.learned import load
from qa.spans import candidates


def typed(sentence, question, kind):
    return [s.text for s in candidates(sentence, question)[0] if s.type == kind]


def span(question, sentence):
    return choose_span(read_question(question, lambda w: 1.0, lambda w: True, {}), sentence, load())[0]


@pytest.mark.parametrize("question, unit", [
    ("2017年计划拆迁多少户？", "户"),
    ("运河大剧院总投资多少钱？", "元"),
    ("有多少老年人享受养老服务？", "人"),
    ("派了多少干部到企业？", "人"),
    ("新建几所学校？", "所"),
    ("增长多少？", "%"),  # a rate
    ("地区生产总值增长了几个百分点？", "%"),
    ("地区生产总值是多少", "元"),  # no unit written: the name's last word says money
    ("城镇调查失业率是多少？", "%"),
    ("接待游客总人数是多少？", "人"),
    ("全国粮食播种面积是多少？", "面积"),  # any unit of area
    ("粮食产量是多少？", None),  # tons or jin: nothing implied
    ("实际使用外资金额是多少亿美元？", "美元"),
    ("集装箱吞吐量是多少万标箱？", "标箱"),
    ("粮食总产量是多少万吨？", "吨"),  # the unit, not its multiplier
    ("中央财政投资多少亿元？", "元"),
    ("城镇新增就业多少万人？", "人"),
    ("外汇储备有多少亿？", "亿"),
    ("森林面积多少平方公里？", "平方公里"),
    ("可再生能源装机容量是多少万千瓦？", "千瓦"),  # 万 and 千瓦, not 万千 and no unit
    ("2024年发生生产安全事故多少起？", "起"),
])
def test_asked_unit(question, unit):
    assert asked_unit(question) == unit


@pytest.mark.parametrize("number, question, clash", [
    ("3011万平方米", "新开工改造的城镇老旧小区是多少个？", True),
    ("1.4%", "研发经费投入总额是多少亿元？", True),
    ("57.6%", "可再生能源装机容量是多少万千瓦？", True),
    ("28.2%", "2024年发生生产安全事故多少起？", True),
    ("5所", "新建了多少个学校？", False),  # 个 asked takes any counter
    ("2.1个百分点", "比重提高了多少个百分点？", False),  # the unit the question writes
    ("20万辆", "新能源汽车产量增长了多少？", False),  # a change asked may be an amount
    ("5000亿元", "外汇储备有多少亿？", False),  # a magnitude alone asks no unit
    ("909", "中欧班列开行多少列？", False),  # no unit said
    ("17.5%", "有多少比例的人信仰天主教？", False),  # a share asked
    ("567亿元", "一共花了多少钱？", False),
    ("37.7万人", "城镇调查失业率是多少？", True),  # a rate asked as such is a share, not a count
    ("5.5%左右", "城镇调查失业率是多少？", False),
    ("0.8个百分点", "城镇化率是多少？", False),
    ("1∶3.4", "开工备案项目比例是多少？", False),
    ("11.1%", "接待游客总人数是多少？", True),
    ("6.5亿人次", "接待旅游总人数是多少？", False),  # people counted as visits
    ("50150万吨", "全国粮食播种面积是多少？", True),
    ("15.8亿亩", "全国粮食播种面积是多少？", False),
    ("300场", "实际使用外资金额是多少亿美元？", True),
    ("64.6%", "平陆运河完成投资多少亿元？", True),  # 完成 is no share asked (几成, 三成 are)
    ("30%", "有几成的人？", False),
    ("43公里", "自然保护区面积多少平方公里？", True),  # a unit inside the one asked is not written by the question
    ("1200千瓦", "全年发电多少千瓦时？", True),
    ("2020年", "2021年城镇新增就业多少人？", True),  # the year of a date is no unit the question writes
    ("1950年到1997年", "1998年高速公路建设投资是多少亿元？", True),
    ("2.1个百分点", "2021年比重比上年提高了多少个百分点？", False),
    ("1.5倍", "预计今年棉花产量是多少万担？", True),  # a magnitude asks an amount, not a multiple
    ("12.5%", "全省常住人口有多少万？", True),
    ("9900万", "全省常住人口有多少万？", False),
])
def test_a_number_in_another_unit_than_asked_clashes(number, question, clash):
    from qa.extract import unit_clash

    assert unit_clash(number, question) is clash


def test_asked_noun_counts_what_the_question_counts():
    assert asked_noun("亚运会期间要保障几个场馆？") == "场馆"
    assert asked_noun("有多少停车位") == "停车"
    assert asked_noun("增长了多少？") is None


@pytest.mark.parametrize("sentence, question, found", [
    ("2017年新增就业12000人。", "", ["12000人"]),  # a bare year is not an answer
    ("G20峰会圆满召开。", "", []),  # nor a number inside a name
    ("地铁5号线开工，设站12个。", "地铁5号线有几个站", ["12个"]),  # nor the question's own number
    ("新增泊位6948个", "", ["6948个"]),
    ("外汇储备超过1.52万亿美元。", "", ["1.52万亿美元"]),  # the number, not how it stands to it
])
def test_numbers(sentence, question, found):
    assert [m.group() for m in numbers(sentence, question)] == found


def test_fits_prefers_the_asked_unit_or_noun():
    assert fits("number", "围绕4大场馆、5项赛事", "要保障几个场馆？") == 1.0
    assert fits("number", "开工地铁2号线", "设了几个站点？") == 0.5
    assert fits("number", "城中村改造稳步推进", "拆迁多少户？") == 0.0
    assert fits("number", "地区生产总值增长8%", "增长多少？") == 1.0  # no unit asked: any number
    assert fits("number", "粮食总产量1344亿斤", "粮食总产量是多少万吨？") == 0.5  # another unit
    assert fits("number", "粮食产量1146.1万吨", "粮食总产量是多少万吨？") == 1.0
    assert fits("list", "推进城中村改造、老旧小区改造。", "有哪些？") == 1.0
    assert fits("date", "8月10日召开", "哪天召开？") == 1.0


def test_list_questions_are_lists_even_with_a_counter():
    assert question_kind("框架道路包括哪几条路？") == "list"
    assert question_kind("有几个站点？") == "number"


def test_which_year_of_the_common_era_asks_a_date_not_a_count():
    assert question_kind("議會大廈建於西元幾年？") == "date"
    assert question_kind("公元几年建成？") == "date"
    assert question_kind("这项工程用了几年？") == "number"  # how many years: a count


@pytest.mark.parametrize("sentence, expected", [
    ("全面提升改造桥西、小河直街、大兜路三大历史街区，不断增强活力。", "桥西、小河直街、大兜路"),
    ("狠抓莫干山路、沈半路、拱康路、康桥路四套框架道路沿线开发建设", "莫干山路、沈半路、拱康路、康桥路"),
    ("大力发展信息经济、金融服务、文化创意、商贸旅游、商务服务、体育健康等六大重点产业",
     "信息经济、金融服务、文化创意、商贸旅游、商务服务、体育健康"),
    ("今后五年在祥符橋、運河灣區塊再建兩個歷史街區", "祥符橋、運河灣區塊"),  # traditional, offsets kept
    ("重点推进城中村改造、老旧小区改造、未来社区建设。", "城中村改造、老旧小区改造、未来社区建设"),
    ("紧盯华侨城、首开股份、WEWORK等一批在谈重大项目", "紧盯华侨城、首开股份、WEWORK"),  # a short verb stays
])
def test_list_answers_drop_the_verb_before_and_the_count_after(sentence, expected):
    assert expected in typed(sentence, "有哪些？", "list")


def test_a_count_written_before_its_noun_is_a_candidate():
    sentence = "从杭州看，随着G20峰会召开，围绕4大场馆、5项赛事，全面优化竞赛组织工作。"
    assert "20" not in "".join(typed(sentence, "要保障几个场馆？", "number"))  # G20 is a name
    assert "5项" in typed(sentence, "要保障几个场馆？", "number")


def test_spans_with_wan_and_month_forms():
    assert [m.group() for m in numbers("新增就业岗位14.4万个，8 万余名老人")] == ["14.4万个", "8 万余名"]
    assert "11月份以前" in typed("安置房项目要在11月份以前全部开工。", "什么时候以前开工？", "date")
    assert "“武林大妈”“拱宸大伯”" in typed("发挥“武林大妈”“拱宸大伯”等群众力量作用。", "有哪些？", "list")


GROWTH = "上半年,全区实现地区生产总值228.12亿元,增长10.3%;"
# Known misses of the learned span model (trees, scripts/train_answerer.py). The conditional logit
# before it got them right, but it picked the exact gold span less often out of fold (0.41 against
# 0.46 of the training questions whose sentence is right) and on the held-out parts; strict, so a
# model that gets them right again says so here.
def test_a_growth_question_takes_the_rate_not_the_amount():  # a known miss until the span vetoes
    assert span("上半年地区生产总值增长了多少？", GROWTH) == "10.3%"


def test_an_amount_question_takes_the_amount():
    assert span("上半年地区生产总值是多少？", GROWTH) == "228.12亿元"


def test_traditional_sentences_are_cut_into_words_as_simplified_ones():
    # jieba cuts 位於瓦倫 as one word in traditional script; the simplified reading keeps the name whole
    found = [s.text for s in candidates("位於瓦倫本哥國家公園內也稱為賽丁泉山。", "在哪一座公園？")[0]]
    assert "瓦倫本哥國家公園" in found


def test_a_whole_clause_without_its_connective_is_a_candidate():
    sentence = "發音時的力道尚未確立，因為目前沒有觀察到任何語言純以力道區分輔音。"
    assert "目前沒有觀察到任何語言純以力道區分輔音" in typed(sentence, "為何無法確立？", "clause")


def test_what_the_question_word_asks_about():
    from qa.spans import WH_TYPES, asked

    q = read_question("在哪一座公园中可以看到天文台？", lambda w: 1.0, lambda w: True, {})
    wants = asked(q)
    assert wants.head == "公园"
    assert dict(zip(WH_TYPES, wants.wh))["where"] == 1.0
    assert "天文台" in wants.after and "天文台" not in wants.before


@pytest.mark.parametrize("question, word, wh", [
    ("新几内亚和澳大利亚中间隔着哪一个海峡？", "哪", "which"),  # not 几 inside a place name
    ("这种做法被称为什么？", "什么", "what"),  # not 为什么: nothing asks why
    ("许多游客去了哪里？", "哪里", "where"),  # not 多 of 许多
    ("五月艾分布在哪些地区？", "哪些", "which"),
])
def test_the_question_word_starts_a_word_of_the_question(question, word, wh):
    from qa.features import WH, question_word
    from qa.normalize import for_matching
    from qa.spans import WH_TYPES, asked

    assert question_word(WH, for_matching(question)).group() == word
    wants = dict(zip(WH_TYPES, asked(read_question(question, lambda w: 1.0, lambda w: True, {})).wh))
    assert wants[wh] == 1.0 and wants["count"] == 0.0 and wants["why"] == 0.0


def test_the_span_the_question_text_closes_around_is_aligned():
    from qa.spans import SPAN_FEATURES, span_matrix

    q = read_question("林登·詹森在哪里的小农庄出生？", lambda w: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, "林登·詹森在德克萨斯州石墙郡的小农庄出生，家境贫寒。")
    features = {s.text: dict(zip(SPAN_FEATURES, x)) for s, x in zip(spans, X)}
    whole = features["德克萨斯州石墙郡"]
    assert whole["align_left0"] > 0 and whole["align_right0"] > 0  # 詹森在 | … | 的小农庄
    part = features["德克萨斯州"]
    assert part["align_left0"] == whole["align_left0"] and part["align_right0"] == 0
    assert part["align_right"] < whole["align_right"]  # 的小农庄 follows it only after a gap
    assert features["家境贫寒"]["align_left"] == 0


@pytest.mark.parametrize("sentence, date", [
    ("儘管古羅馬共和國誕生於公元前510年，但文學晚得多。", "公元前510年"),
    ("直到19世紀晚期國際動物學界才有共識。", "19世紀晚期"),
    ("20世纪60年代到70年代初，韩国主要发展劳动密集型产业。", "20世纪60年代"),
    ("力争到本世纪末使工农业总产值翻两番。", "本世纪末"),
    ("民國26年上半年，蔣中正命劉建緒集中兵力。", "民國26年"),
    ("九十年代初期，改革开放步伐加快。", "九十年代初期"),
])
def test_years_of_an_era_centuries_and_decades_are_dates(sentence, date):
    assert date in typed(sentence, "什么时候？", "date")
    assert fits("date", sentence, "什么时候？") == 1.0


def test_a_count_of_years_is_no_date():
    assert fits("date", "过去十年，全省新增就业二百万人。", "什么时候？") == 0.0


def test_a_name_jieba_cut_in_parts_is_one_candidate_and_its_parts_are_marked():
    from qa.spans import SPAN_FEATURES, span_matrix

    q = read_question("哪一个人当时担任伦大学院的教务长？", lambda w: 1.0, lambda w: True, {})
    assert q.kind == "person"
    spans, X = span_matrix(q, "倫大學院的教務長德里克·羅勃茲因而被逼取消這個計劃。")
    features = {s.text: dict(zip(SPAN_FEATURES, x)) for s, x in zip(spans, X)}
    assert features["德里克·羅勃茲"]["is_person"] == 1.0 and features["德里克·羅勃茲"]["name_part"] == 0.0
    assert features["羅勃茲"]["name_part"] == 1.0 and features["德里克"]["name_part"] == 1.0


def test_a_span_ending_with_the_noun_asked_about_is_of_the_kind_asked():
    from qa.spans import SPAN_FEATURES, span_matrix

    q = read_question("黑龙江在哪一个海峡入海？", lambda w: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, "黑龙江最终流入鞑靼海峡。")
    features = {s.text: dict(zip(SPAN_FEATURES, x)) for s, x in zip(spans, X)}
    assert features["鞑靼海峡"]["asked_match"] == 1.0
    assert features["最终"]["asked_match"] == 0.0


@pytest.mark.parametrize("question, change, level", [
    ("2024年安徽新能源汽车产量达到多少辆？", 1.0, 0.0),  # 94.5% is a change, 168.4万辆 the level asked
    ("安徽新能源汽车产量增长了多少？", 0.0, 1.0),
    ("听说汽车产量增长很快，那新能源汽车产量达到多少辆？", 1.0, 0.0),  # the change is context, a level is asked
    ("新能源汽车产量提高到多少辆？", 1.0, 0.0),  # 提高到 asks the level reached
])
def test_a_number_after_a_change_word_is_a_change_and_the_question_says_which_it_asks(question, change, level):
    from qa.spans import SPAN_FEATURES, span_matrix

    q = read_question(question, lambda w: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, "新能源汽车产量增长94.5%、达168.4万辆，居全国第2位。")
    features = {s.text: dict(zip(SPAN_FEATURES, x)) for s, x in zip(spans, X)}
    assert features["94.5%"]["level_as_change"] == change and features["168.4万辆"]["level_as_change"] == 0.0
    assert features["168.4万辆"]["change_as_level"] == level and features["94.5%"]["change_as_level"] == 0.0


def test_a_number_spaced_from_its_change_word_is_still_a_change():
    # text from PDFs and web pages: "同比增长 8%" (a space before the number) is a change like "增长14.8%"
    from qa.spans import SPAN_FEATURES, span_matrix

    q = read_question("2016年拱墅区地区生产总值增长了多少？", lambda w: 1.0, lambda w: True, {})
    spans, X = span_matrix(q, "全年完成地区生产总值 467.8 亿元,同比增长 8%,地方一般公共预算收入 79.7 亿元,同比增长14.8%。")
    features = {s.text: dict(zip(SPAN_FEATURES, x)) for s, x in zip(spans, X)}
    assert features["8%"]["change_as_level"] == 0.0 and features["14.8%"]["change_as_level"] == 0.0
    assert features["467.8 亿元"]["change_as_level"] == 1.0


@pytest.mark.parametrize("number, unit, matches", [
    ("117平方公里", "公里", False),  # an area is no length
    ("2.3万立方米", "米", False),
    ("43公里", "公里", True),
    ("15千米", "公里", True),
    ("1200千瓦", "千瓦时", False),
    ("6.5亿人次", "人", True),
])
def test_a_number_matches_the_asked_unit_only_as_a_whole(number, unit, matches):
    from qa.extract import unit_matches

    assert unit_matches(number, unit) is matches
