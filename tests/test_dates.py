import pytest

from qa.dates import cn_number, iso, meeting_year, normalise


@pytest.mark.parametrize("text, expected", [
    ("二〇二四年一月二十三日", "2024年1月23日"), ("一九五四年九月", "1954年9月"), ("二〇一〇年十月", "2010年10月"),
    ("（１９８７年）", "(1987年)"), ("1 9 9 3 年3 月", "1993 年3 月"), ("", ""), ("中", "中"),
    ("二十三个", "二十三个"),  # a number that is no date stays as it is
])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("text, number", [("二〇二四", "2024"), ("十", "10"), ("十二", "12"), ("二十", "20"),
                                          ("三十一", "31"), ("九", "9")])
def test_cn_number(text, number):
    assert cn_number(text) == number


def test_iso():
    assert iso("2025", "1", "5") == "2025-01-05"


@pytest.mark.parametrize("meeting, year", [
    ("第十届全国人民代表大会第一次会议", 2003),
    ("第十四届全国人民代表大会第三次会议", 2025),
    ("第五届全国人民代表大会", 1978),  # no session named: the first
    ("第一届全国人民代表大会第二次会议", 1955),
    ("第二届全国人民代表大会第三次会议", None),  # the early terms did not meet every year
    ("中国共产党第十二次全国代表大会", 1982),
    ("中国共产党第二十次全国代表大会", 2022),
    ("党的第八次全国代表大会", 1956),
    ("安徽省第十四届人民代表大会第三次会议", None),  # a province numbers its congresses its own way
    ("", None),
    (None, None),
])
def test_the_year_of_a_national_meeting(meeting, year):
    assert meeting_year(meeting) == year
