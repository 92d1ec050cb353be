import pytest

from qa.dates import cn_number, iso, normalise


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
