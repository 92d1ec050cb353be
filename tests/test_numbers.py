import pytest

from qa.numbers import Quantity, find_quantities, fold_numerals, parse_number, same_quantity


@pytest.mark.parametrize("text, value", [
    ("42", 42), ("四十二", 42), ("一百三十", 130), ("二百五十六", 256), ("两千", 2000), ("十一", 11),
    ("十", 10), ("一万五", 15000), ("三百五", 350), ("一百零五", 105), ("一千零五十", 1050),
    ("1.2万亿", 1.2e12), ("228.12亿", 2.2812e10), ("4,000", 4000), ("1,234,567.5", 1234567.5),
    ("１２", 12), ("１２．５", 12.5), ("百分之十", 10), ("百分之五点五", 5.5), ("12%", 12),
    ("三千五百万", 35_000_000), ("一亿五千万", 150_000_000), ("一万亿", 1e12), ("一点二万亿", 1.2e12),
    ("零点五", 0.5), ("〇", 0), ("零", 0), ("二〇二五", 2025), ("一九九七", 1997),
    ("兩千", 2000), ("三萬", 30000), ("十億", 1e9), ("貳佰", 200), ("千万", 1e7), ("-5", -5), (" 42 ", 42),
])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", [
    "", " ", "字", "廿", "卅", "abc", "🎉", "十四五", "亿万", "万万", "42个", "四十二个", "1.2.3", "点五", "-",
])
def test_parse_number_refuses_what_is_not_one_numeral(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text, span, value, unit, kind", [
    ("新建口袋公园四十二个", "四十二个", 42, "个", "number"),
    ("引进高层次人才二百五十六名", "二百五十六名", 256, "名", "number"),
    ("十一年来我们坚持不懈", "十一年", 11, "年", "number"),
    ("重点抓好五个方面工作", "五个", 5, "个", "number"),
    ("培训两千人", "两千人", 2000, "人", "number"),
    ("收入228.12亿元", "228.12亿元", 2.2812e10, "元", "number"),
    ("规模达1.2万亿元", "1.2万亿元", 1.2e12, "元", "number"),
    ("改造4,000户", "4,000户", 4000, "户", "number"),
    ("改造4000 户", "4000 户", 4000, "户", "number"),
    ("增长１２％", "１２％", 12, "%", "percent"),
    ("增长12％", "12％", 12, "%", "percent"),
    ("占百分之十", "百分之十", 10, "%", "percent"),
    ("净增1 7 个", "1 7 个", 17, "个", "number"),
    ("增长1 5 ．3 ％", "1 5 ．3 ％", 15.3, "%", "percent"),
    ("达到4 9 2 5 亿公斤", "4 9 2 5 亿公斤", 4.925e11, "千克", "number"),
    ("降低0.2个百分点", "0.2个百分点", 0.2, "个百分点", "number"),
    ("七成以上", "七成以上", 7, "成", "number"),
    ("约三分之一", "约三分之一", 1 / 3, "", "number"),
    ("千分之五", "千分之五", 5, "‰", "percent"),
    ("兩千萬元", "兩千萬元", 2e7, "元", "number"),
    ("全區增長８．５％", "８．５％", 8.5, "%", "percent"),
    ("1997年", "1997年", 1997, "年", "year"),
    ("一九五四年", "一九五四年", 1954, "年", "year"),
    ("1 9 9 7 年粮食产量", "1 9 9 7 年", 1997, "年", "year"),
    ("2025年1月15日", "2025年1月15日", 20250115, "", "date"),
    ("二〇二五年一月十五日", "二〇二五年一月十五日", 20250115, "", "date"),
    ("3月5日召开", "3月5日", 305, "", "date"),
    ("2016年12月", "2016年12月", 20161200, "", "date"),
    ("去年12月", "12月", 1200, "", "date"),
    ("三个月", "三个月", 3, "个月", "number"),
    ("从五十年代中期", "五十年代", 50, "年代", "number"),
    ("第十四届", "第十四届", 14, "届", "ordinal"),
    ("第一", "第一", 1, "", "ordinal"),
    ("党的二十大", "二十", 20, "", "number"),
    ("建党一百年", "一百年", 100, "年", "number"),
    ("粮食产量达到八千亿斤", "八千亿斤", 8e11, "斤", "number"),
    ("産量來同一九四九年産量比較", "一九四九年", 1949, "年", "year"),
    ("花産量仍可超過一九五三年", "超過一九五三年", 1953, "年", "year"),
    ("一千多年", "一千多年", 1000, "年", "number"),
    # a unit per another is kept whole (the unit stays the first): the answer is copied with it
    ("城市低保标准提高到778元/月", "778元/月", 778, "元", "number"),
    ("PM2.5平均浓度12微克/立方米", "12微克/立方米", 12, "微克", "number"),
    ("设计时速350公里/小时", "350公里/小时", 350, "公里", "number"),
])
def test_find_one_quantity(text, span, value, unit, kind):
    [q] = find_quantities(text)
    assert (q.text, q.unit, q.kind) == (span, unit, kind)
    assert q.value == pytest.approx(value)
    assert text[q.start:q.end] == q.text


@pytest.mark.parametrize("text, span, qualifier", [
    ("经济增长5%左右", "5%左右", "左右"),
    ("百分之五左右", "百分之五左右", "左右"),
    ("就业1000万人以上", "1000万人以上", "以上"),
    ("控制在3%以内", "3%以内", "以内"),
    ("降到5%以下", "5%以下", "以下"),
    ("1000多人", "1000多人", "多"),
    ("二十余年", "二十余年", "余"),
    ("二十多万人", "二十多万人", "多"),
    ("约5%", "约5%", "约"),
    ("近十年", "近十年", "近"),
    ("超过1000家", "超过1000家", "超"),
    ("超万亿", "超万亿", "超"),
    ("新签约亿元以上项目", "亿元以上", "以上"),  # the 约 of 签约 is not 约 = about
    ("为国家节約二千八百億元", "二千八百億元", ""),
    ("最近五年", "五年", ""),
])
def test_qualifier_is_kept_with_the_number(text, span, qualifier):
    [q] = find_quantities(text)
    assert (q.text, q.qualifier) == (span, qualifier)


def test_magnitude_is_recorded_and_in_the_value():
    [a, b, c] = find_quantities("1.2万亿元，三千五百万人，二十多万人")
    assert (a.magnitude, a.value) == ("万亿", pytest.approx(1.2e12))
    assert (b.magnitude, b.value) == ("万", pytest.approx(3.5e7))
    assert (c.magnitude, c.value) == ("万", pytest.approx(2e5))


@pytest.mark.parametrize("text, span, low, high, unit", [
    ("增长5%—5.5%", "5%—5.5%", 5, 5.5, "%"),
    ("增长4.5%-5%", "4.5%-5%", 4.5, 5, "%"),
    ("增长5%到5.5%", "5%到5.5%", 5, 5.5, "%"),
    ("增长5%～5.5%", "5%～5.5%", 5, 5.5, "%"),
    ("三至五年", "三至五年", 3, 5, "年"),
    ("1—2万人", "1—2万人", 1e4, 2e4, "人"),
    ("一万至两万人", "一万至两万人", 1e4, 2e4, "人"),
    ("2021—2025年", "2021—2025年", 2021, 2025, "年"),
    ("从一九五〇年到一九五四年", "一九五〇年到一九五四年", 1950, 1954, "年"),
])
def test_ranges(text, span, low, high, unit):
    [q] = find_quantities(text)
    assert (q.text, q.kind, q.unit, q.value) == (span, "range", unit, None)
    assert (q.low, q.high) == (pytest.approx(low), pytest.approx(high))


def test_range_needs_the_same_unit_on_both_ends():
    qs = find_quantities("5%到2025年")
    assert [(q.text, q.kind) for q in qs] == [("5%", "percent"), ("2025年", "year")]


@pytest.mark.parametrize("text, span", [
    ("三次产业结构为0:18.25:81.75", "0:18.25:81.75"),
    ("收入比缩小至2.31:1", "2.31:1"),
    ("产值之比突破1：1。", "1：1"),
])
def test_ratios(text, span):
    [q] = find_quantities(text)
    assert (q.text, q.kind, q.value) == (span, "ratio", None)


@pytest.mark.parametrize("text, direction", [
    ("同比增长5%", "up"), ("比上年提高2个百分点", "up"), ("上升到85%", "up"), ("增加了100万人", "up"),
    ("价格上涨3%", "up"), ("涨了3%", "up"), ("同比下降3.2%", "down"), ("减少了200户", "down"),
    ("降低0.5个百分点", "down"), ("回落到2%", "down"), ("下滑5%", "down"), ("跌了3%", "down"),
    ("同比增長８％", "up"), ("單位能耗減少５％", "down"),
    ("覆盖率达79.8%", None), ("增长，5%", None), ("经济增长目标为5%", None), ("2025年", None),
])
def test_direction_comes_from_the_verb_just_before(text, direction):
    [q] = find_quantities(text)
    assert q.direction == direction


@pytest.mark.parametrize("text", [
    "统一部署", "一流大学", "一体化发展", "共建一带一路", "三农工作", "两岸同胞", "十分重要", "一些地方",
    "万一出现", "三峡工程", "一起努力", "四川省", "五一劳动节", "千万不能松懈", "老百姓", "万众一心",
    "百年大计", "千年古城", "千家万户", "一度紧张", "一方面要", "零部件", "十四五时期",
    "七八个", "三次产业结构", "上亿市场主体", "一部分", "成千上万个", "千头万绪", "党的一元化领导", "七成为", "统一部门", "七台河市", "四人帮", "星期一至星期五", "二元结构", "一成不变",
    "5G基站", "H7N9", "", "字", "Mixed 中英 🎉",
])
def test_words_with_numeral_characters_are_not_quantities(text):
    assert find_quantities(text) == []


def test_a_word_does_not_swallow_the_numeral_after_it():
    assert [q.text for q in find_quantities("唯一一个，统一三项")] == ["一个", "三项"]


def test_find_quantities_in_order_not_overlapping_with_original_offsets():
    text = "🎉2025年全區GDP增長５．５％，新增就業１２萬人、口袋公园四十二个，统一部署，第十四届 report 3.5%"
    qs = find_quantities(text)
    assert [q.text for q in qs] == ["2025年", "５．５％", "１２萬人", "四十二个", "第十四届", "3.5%"]
    assert all(text[q.start:q.end] == q.text for q in qs)
    assert all(a.end <= b.start for a, b in zip(qs, qs[1:]))
    assert qs[1].direction == "up" and qs[2].value == pytest.approx(120000)


@pytest.mark.parametrize("text, count", [
    # real sentences from provincial and national reports
    ("全年新建口袋公园四十二个，改造老旧小区二百五十六个。", 2),
    ("全面贯彻党的二十大和二十届二中、三中全会精神", 2),
    ("十年来，我们坚持稳中求进工作总基调", 1),
    ("国民收入１９８７年达到９１５３亿元，按可比价格计算平均每年增长１０．７％。", 3),
    ("1 9 9 7 年钢产量达到1 亿吨以上，发电量1 1 3 4 0 亿千瓦时", 3),
    ("促进应用三级贯通和预案三级衔接", 2),
    ("要在十六大、十七大确立的全面建设小康社会目标的基础上", 2),
    ("在一九四九年至一九五二年迅速地完成了恢復國民經濟的任務", 1),
    ("我国是一个统一的多民族国家，坚持一国两制", 2),
    ("大力发展新质生产力，实施一批重大项目", 1),
])
def test_real_sentences(text, count):
    qs = find_quantities(text)
    assert len(qs) == count, [q.text for q in qs]


def test_a_long_document_finds_every_repetition():
    text = "新建口袋公园四十二个，投资1.2万亿元，统一部署。" * 2000
    qs = find_quantities(text)
    assert len(qs) == 4000 and qs[-1].text == "1.2万亿元" and qs[-1].end == len(text) - 6
    # a long run of spaced digits with no unit is 3000 bare numbers (and is read in linear time)
    assert [q.text for q in find_quantities("1 " * 3000)] == ["1"] * 3000


@pytest.mark.parametrize("text, folded", [
    ("新建口袋公园四十二个", "新建口袋公园42个"),
    ("引进高层次人才二百五十六名", "引进高层次人才256名"),
    ("百分之十", "10%"),
    ("百分之五左右", "5%左右"),
    ("两千人", "2000人"),
    ("兩千人", "2000人"),
    ("改造4,000户", "改造4000户"),
    ("三千五百万人", "3500万人"),
    ("一亿五千万元", "1.5亿元"),
    ("一点二万亿元", "1.2万亿元"),
    ("二十多万人", "20多万人"),
    ("三至五年", "3至5年"),
    ("二〇二五年一月十五日", "2025年1月15日"),
    ("第十四届", "第14届"),
    ("净增1 7 个", "净增17 个"),
    ("五十年代中期", "50年代中期"),
    ("十一年来", "11年来"),
    ("两千", "两千"),  # no unit: left as written
    ("第一产业", "第一产业"),
    ("统一部署，十分重要", "统一部署，十分重要"),
    ("１２％ and 1.2万亿元", "１２％ and 1.2万亿元"),
    ("", ""),
    ("字", "字"),
    ("Mixed 中英 🎉 四十二个", "Mixed 中英 🎉 42个"),
])
def test_fold_numerals(text, folded):
    assert fold_numerals(text) == folded


def test_fold_numerals_makes_either_writing_match():
    passage = fold_numerals("今年全区新建口袋公园四十二个，引进高层次人才二百五十六名。")
    question = fold_numerals("新建42个口袋公园和引进256名人才的是哪个区？")
    assert "42个" in passage and "256名" in passage and "42个" in question and "256名" in question


@pytest.mark.parametrize("a, b", [
    ("42个", "四十二个"), ("4,000户", "4000户"), ("1.2万亿元", "12000亿元"), ("１２％", "12%"),
    ("百分之十二", "12%"), ("两千人", "2000人"), ("兩千人", "2000人"), ("5%—5.5%", "5%-5.5%"), ("三至五年", "3—5年"),
    ("0:18.25:81.75", "0：18.25：81.75"), ("2025年1月15日", "二〇二五年一月十五日"), ("42", "四十二"),
    ("5%左右", "5%"), ("五", "5"),
])
def test_same_quantity(a, b):
    assert same_quantity(a, b) and same_quantity(b, a)


@pytest.mark.parametrize("a, b", [
    ("42个", "42人"), ("42个", "43个"), ("12%", "12"), ("1.2万亿元", "1.2亿元"), ("2025年", "2025"),
    ("", ""), ("字", "字"), ("42个", ""), ("5%—5.5%", "5%—6%"), ("第一", "1"),
])
def test_not_same_quantity(a, b):
    assert not same_quantity(a, b)


def test_quantity_is_a_plain_dataclass():
    q = Quantity(0, 2, "5%", 5.0, unit="%", kind="percent")
    assert q.direction is None and q.low is None and q.magnitude == ""


@pytest.mark.parametrize("alphabet", ["0123456789 ,.个年月日届%:-—至号约超左右以上元点分之第",
                                      "0123456789 ,.:万亿一二十百千两〇元个%第 ", "01 ,.个年%:-~到第号日的发展。，"])
def test_fold_numerals_skips_only_texts_that_nothing_would_fold(alphabet):
    """A text without a Chinese numeral, 第 or separated digits is returned without a scan: what the
    scan of every number gives (random strings dense in numbers, separators and units)."""
    import random

    from qa.numbers import _FOLD, _fold

    rng = random.Random(len(alphabet))
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        assert fold_numerals(text) == _fold(text, text.translate(_FOLD)), text


def test_a_lone_numeral_is_never_rewritten():
    """fold_numerals skips _build for a one-character match: check that _build would rewrite none."""
    from qa import numbers

    around = ["", "进", "步", "个", "年", "分", "是", "批", "万", "，", "第", "约", "5", " ", "月", "之"]
    lone = 0
    for c in "零〇一二三四五六七八九两十百千万亿":
        for a in around:
            for b in around:
                text = a + c + b
                for m in numbers._matches(text.translate(numbers._FOLD)):
                    if len(m[0]) == 1:
                        lone += 1
                        assert not numbers._build(m, text)[1], (text, m[0])
    assert lone > 1000
