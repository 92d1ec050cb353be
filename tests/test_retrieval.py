import json

import numpy as np
import pytest

from qa import store
from qa.config import Settings
from qa.embedding import load_model
from qa.ingest import ingest, source_name
from qa.lexical import tokenize
from qa.retrieval import RRF_K, Retriever, rrf, years_in

# Two reports of different years that say nearly the same thing; the 2017 one matches the
# question's words a little better.
FILES = {
    "r2017.txt": "城中村改造完成拆迁和整治5500户，城中村改造新建安置房100万平方米。",
    "r2018.txt": "城中村改造完成拆迁和整治3000户，新建安置房80万平方米。",
    "metro.txt": "地铁5号线站点建设全面开工，交通网络不断完善。",
    "water.txt": "五水共治成效明显，河道水质全面改善。",
}
CATALOG = {"documents": [
    {"file": "r2017.txt", "title": "政府工作报告", "date": "2017-01-05"},
    {"file": "r2018.txt", "title": "政府工作报告", "date": "2018-01-09"},
    {"file": "metro.txt", "title": "交通建设情况", "date": "2016-07-28"},
    {"file": "water.txt", "title": "治水情况", "date": "2016-12-28", "speaker": "许明"},
]}


@pytest.fixture(scope="module")
def built(tmp_path_factory, tiny_st_model):
    folder = tmp_path_factory.mktemp("retrieval_corpus")
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "catalog.json").write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    settings = Settings(index_dir=folder / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    return folder, store.load(settings.index_dir), load_model(str(tiny_st_model))


@pytest.fixture(scope="module")
def retriever(built):
    _, index, embedder = built
    return Retriever(index, embedder)


def doc_ids(hits) -> list[str]:
    return [h.passage.doc_id for h in hits]


# --- rrf ---------------------------------------------------------------------------------------

def test_rrf_single_ranking():
    fused = rrf([np.array([2, 0])], [1.0], n=3, k=0)
    np.testing.assert_allclose(fused, [1 / 2, 0, 1 / 1])


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = rrf([np.array([0, 1, 2]), np.array([2, 1])], [1.0, 0.5], n=4, k=60)
    expected = [1 / 61, 1 / 62 + 0.5 / 62, 1 / 63 + 0.5 / 61, 0]
    np.testing.assert_allclose(fused, expected)
    assert fused.dtype == np.float64


def test_rrf_weights_decide_between_rankings():
    a, b = np.array([0, 1]), np.array([1, 0])
    assert np.argmax(rrf([a, b], [1.0, 0.5], n=2)) == 0
    assert np.argmax(rrf([a, b], [0.5, 1.0], n=2)) == 1
    equal = rrf([a, b], [1.0, 1.0], n=2)
    assert equal[0] == equal[1]


def test_rrf_k_flattens_rank_differences():
    ranking = [np.array([0, 1])]
    sharp, flat = rrf(ranking, [1.0], 2, k=1), rrf(ranking, [1.0], 2, k=1000)
    assert sharp[0] / sharp[1] > flat[0] / flat[1] > 1
    assert RRF_K == 60


def test_rrf_empty():
    assert not rrf([], [], n=3).any()
    assert not rrf([np.array([], dtype=np.int64)], [1.0], n=3).any()


@pytest.mark.parametrize("text, years", [
    ("2017年计划", {2017}),
    ("2016年和2017年度的对比", {2016, 2017}),
    ("1998年", {1998}),
    ("完成5500户", set()),
    ("20170", set()),
    ("编号12017", set()),
    ("", set()),
    ("一九七九年建交", {1979}),  # Chinese numerals, digit by digit
    ("到二○○○年、二〇二〇年", {2000, 2020}),
    ("十一年来", set()),
    ("三一九七九年", set()),
    ("2000余家企业、2000人、1999万元、2050多个", set()),  # counts that look like years
    ("2021—2025年，（2024）", {2021, 2024, 2025}),
    ("2024年12月，余额1.2019", {2024}),
])
def test_years_in(text, years):
    assert years_in(text) == years


# --- Retriever ---------------------------------------------------------------------------------

def test_bm25_mode_finds_the_passage_with_the_words(retriever):
    hits = retriever.search("地铁站点建设什么时候开工", k=3, mode="bm25")
    assert doc_ids(hits)[0] == "metro"
    top = hits[0]
    assert top.scores["bm25"] > 0 and top.scores["dense"] is None
    assert top.score > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_bm25_mode_returns_only_matching_passages(retriever):
    assert retriever.search("宁波的港口吞吐量", mode="bm25") == []
    assert doc_ids(retriever.search("河道水质", mode="bm25")) == ["water"]


def test_k_limits_the_hits(retriever):
    assert len(retriever.search("城中村改造 地铁 河道", k=2, mode="bm25")) == 2
    assert len(retriever.search("城中村改造 地铁 河道", k=10, mode="bm25")) == 4


def test_hybrid_and_dense_modes_use_the_embedder(retriever):
    hybrid = retriever.search("地铁站点建设", k=4, mode="hybrid")
    assert hybrid and all(isinstance(h.scores["dense"], float) for h in hybrid)
    assert all(-1.0001 <= h.scores["dense"] <= 1.0001 for h in hybrid)
    dense = retriever.search("地铁站点建设", k=4, mode="dense")
    assert len(dense) == 4  # every passage has a dense rank
    assert len({h.passage.passage_id for h in dense}) == 4


def test_dense_mode_without_embedder(built):
    _, index, _ = built
    retriever = Retriever(index, embedder=None)
    assert retriever.search("地铁", mode="bm25")
    with pytest.raises(RuntimeError, match="embedding model"):
        retriever.search("地铁", mode="dense")


def test_dense_weight_comes_from_the_manifest(built):
    _, index, embedder = built
    assert Retriever(index, embedder).dense_weight == index.manifest.dense_weight
    assert Retriever(index, embedder, dense_weight=0.25).dense_weight == 0.25


def test_doc_filter(retriever, built):
    folder = built[0]
    hits = retriever.search("城中村改造拆迁 地铁", k=5, mode="bm25", doc_ids=["metro"])
    assert doc_ids(hits) == ["metro"]
    by_source = retriever.search("城中村改造拆迁 地铁", k=5, mode="bm25",
                                 doc_ids=[source_name(folder / "r2018.txt", folder / "index")])
    assert doc_ids(by_source) == ["r2018"]
    assert retriever.search("城中村改造拆迁", mode="bm25", doc_ids=["no-such-doc"]) == []


def test_year_filter(retriever):
    assert doc_ids(retriever.search("城中村改造拆迁", k=5, mode="bm25", years=[2018])) == ["r2018"]
    assert set(doc_ids(retriever.search("城中村改造 地铁 河道", k=5, mode="bm25", years=[2016]))) \
        == {"metro", "water"}
    assert retriever.search("城中村改造拆迁", mode="hybrid", years=[2015]) == []


def test_question_naming_a_year_prefers_that_report(retriever):
    assert doc_ids(retriever.search("城中村改造拆迁了多少户？", k=2, mode="bm25")) == ["r2017", "r2018"]
    assert doc_ids(retriever.search("2018年城中村改造拆迁了多少户？", k=2, mode="bm25"))[0] == "r2018"
    assert doc_ids(retriever.search("2017年城中村改造拆迁了多少户？", k=2, mode="bm25"))[0] == "r2017"
    assert doc_ids(retriever.search("2018年城中村改造拆迁了多少户？", k=2, mode="hybrid"))[0] == "r2018"


def test_report_bonus_for_speaker_and_year(retriever):
    bonus = retriever.report_bonus("许明讲的治水", ["许明", "治水"])
    by_doc = dict(zip(retriever.doc_of, bonus))
    assert by_doc["water"] > 0
    assert by_doc["metro"] == 0 and by_doc["r2017"] == 0
    year_bonus = dict(zip(retriever.doc_of, retriever.report_bonus("2018年", ["2018"])))
    assert year_bonus["r2018"] > 0 and year_bonus["r2017"] == 0


def test_empty_index(tmp_path, tiny_st_model):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.txt").write_text("城中村改造完成拆迁5500户。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    (folder / "a.txt").unlink()
    ingest([folder], settings)  # its only report removed (ingest never starts an index with none)
    retriever = Retriever(store.load(settings.index_dir), load_model(str(tiny_st_model)))
    assert retriever.search("城中村改造", mode="hybrid") == []


# --- places and unknown metadata ------------------------------------------------------------------

PLACE_FILES = {
    "gd.txt": "2025年广东省政府工作报告\n今年经济社会发展的主要预期目标是：地区生产总值增长5%左右。",
    "js.txt": "2025年江苏省政府工作报告\n今年经济社会发展的主要预期目标是：地区生产总值增长5%左右。",
    "gs.txt": "拱墅区发展情况\n今年经济社会发展的主要预期目标是：地区生产总值增长5%左右。",
    "undated.txt": "工作情况\n今年经济社会发展的主要预期目标是：地区生产总值增长5%左右。",
}


@pytest.fixture(scope="module")
def place_retriever(tmp_path_factory, tiny_st_model):
    folder = tmp_path_factory.mktemp("places")
    for name, text in PLACE_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    catalog = {"documents": [{"file": "gs.txt", "place": "杭州市拱墅区", "date": "2019"}]}
    (folder / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    settings = Settings(index_dir=folder / "index", embed_model=str(tiny_st_model))
    ingest([folder], settings)
    return Retriever(store.load(settings.index_dir), load_model(str(tiny_st_model)))


@pytest.mark.parametrize("question, first", [("广东省今年地区生产总值增长目标是多少？", "gd"),
                                             ("广东今年地区生产总值增长目标是多少？", "gd"),
                                             ("江苏今年地区生产总值增长目标是多少？", "js"),
                                             ("拱墅区今年地区生产总值增长目标是多少？", "gs")])
def test_question_naming_a_place_prefers_that_place(place_retriever, question, first):
    assert place_retriever.index.documents["gd"].place == "广东省"  # found in the title, no catalog
    for mode in ("bm25", "hybrid"):
        assert doc_ids(place_retriever.search(question, k=4, mode=mode))[0] == first


def test_unknown_year_or_place_is_not_a_mismatch(place_retriever):
    r = place_retriever
    assert r.index.documents["undated"].date is None and r.index.documents["undated"].place is None
    by_doc = dict(zip(r.doc_of, r.report_bonus("2025年广东省的目标", ["2025", "广东省", "目标"])))
    # right year and place > unknown year and place (half each) > wrong year and place
    assert by_doc["gd"] > by_doc["undated"] > by_doc["gs"]
    assert by_doc["gd"] > by_doc["js"]  # the right year but another place
    assert by_doc["undated"] > 0


def test_report_bonus_is_one_value_per_passage(place_retriever):
    bonus = place_retriever.report_bonus("广东", ["广东"])
    assert bonus.shape == (len(place_retriever.index.passages),)


@pytest.mark.parametrize("n, m", [(0, 5), (1, 5), (10, 3), (10, 10), (1000, 200), (50, 0)])
def test_top_is_a_stable_argsort_without_the_sort(n, m):
    from qa.retrieval import top

    rng = np.random.default_rng(n + m)
    for scores in (rng.random(n), rng.integers(0, 4, n).astype(float), np.zeros(n)):  # ties, all ties
        assert top(scores, m).tolist() == np.argsort(-scores, kind="stable")[:m].tolist()


@pytest.mark.parametrize("n, m", [(0, 5), (1, 5), (10, 3), (100, 200), (5000, 200), (100000, 200), (5000, 0)])
def test_top_positive_is_top_of_the_matching_rows(n, m):
    """The guessed bound never changes the rows or their order: many zeros, ties at the m-th score,
    fewer positive rows than m, none at all."""
    from qa.retrieval import top, top_positive

    rng = np.random.default_rng(n + m)
    sparse = np.where(rng.random(n) < 0.5, 0, rng.random(n)).astype(np.float32)
    for scores in (sparse, rng.integers(0, 4, n).astype(np.float32), np.zeros(n, np.float32),
                   np.where(rng.random(n) < 0.001, 1.0, 0.0).astype(np.float32), np.round(sparse, 2)):
        matching = np.flatnonzero(scores)
        assert top_positive(scores, m).tolist() == matching[top(scores[matching], m)].tolist()


def test_rows_of_reports_are_their_passages_ascending():
    """Few reports (gathered from each report's rows) or many (one pass over every row), reports
    whose passages are not side by side (an incremental ingest appends the changed ones)."""
    r = Retriever.__new__(Retriever)
    rng = np.random.default_rng(3)
    r._doc_row = rng.integers(0, 40, 400)
    r._doc_ids = list(range(40))
    r._report_rows = np.argsort(r._doc_row, kind="stable")
    r._report_count = np.bincount(r._doc_row, minlength=40).astype(np.int64)
    r._report_start = np.cumsum(r._report_count) - r._report_count
    for size in (1, 2, 3, 4, 10, 39):
        reports = np.sort(rng.choice(40, size, replace=False))
        assert r._rows_of(reports).tolist() == np.flatnonzero(np.isin(r._doc_row, reports)).tolist()


# --- the vectorised query path gives what the per-passage one gave --------------------------------

def reference_search(r: Retriever, query, k=5, mode="hybrid", doc_ids=None, years=None):
    """The search as it was before the query path was vectorised: every array over all passages,
    the report bonus a Python loop over the reports."""
    from qa.places import place_names
    from qa.retrieval import CANDIDATES, PLACE_BONUS, REPORT_BONUS, UNKNOWN_SHARE, top
    from qa.lexical import tokenize

    index = r.index
    passages = list(index.passages)
    n = len(passages)
    if n == 0:
        return []
    docs = list(index.documents.values())
    position = {d.doc_id: i for i, d in enumerate(docs)}
    doc_row = np.array([position[p.doc_id] for p in passages], dtype=np.int64)
    row_of = {int(key): row for row, key in enumerate(index.ids)}
    tokens = tokenize(query)
    bm25 = index.bm25.scores(tokens)
    dense = np.full(n, np.nan, dtype=np.float32)
    rankings, weights = [], []
    if mode in ("hybrid", "bm25"):
        order = top(bm25, CANDIDATES)
        rankings.append(order[bm25[order] > 0])
        weights.append(1.0)
    if mode in ("hybrid", "dense"):
        scores, keys = index.dense.search(r.embedder.encode_queries([query]), min(CANDIDATES, n))
        rows = np.array([row_of[int(key)] for key in keys[0] if key >= 0], dtype=np.int64)
        dense[rows] = scores[0][: len(rows)]
        rankings.append(rows)
        weights.append(r.dense_weight if mode == "hybrid" else 1.0)
    fused = rrf(rankings, weights, n)
    ys = years_in(query)
    q = for_search(query)
    all_places = set().union(*(place_names(d.place) for d in docs))
    places = {name for name in all_places if name in q}
    wanted = set(tokens) - {str(y) for y in ys}
    meta = [set(tokenize(" ".join(filter(None, (d.title, d.meeting, d.kind, d.speaker))))) for d in docs]
    doc_bonus = np.array([bool(wanted & m) for m in meta], dtype=np.float64)
    doc_year = np.array([d.year if d.year else np.nan for d in docs], dtype=np.float64)
    matching = np.isin(doc_year, list(ys)) if ys else np.zeros(len(docs), bool)
    if matching.any():
        doc_bonus += np.where(np.isnan(doc_year), UNKNOWN_SHARE, matching)
    doc_bonus *= REPORT_BONUS
    if places:
        doc_bonus += PLACE_BONUS * np.array([(1.0 if place_names(d.place) & places else 0.0)
                                             if place_names(d.place) else UNKNOWN_SHARE for d in docs])
    fused += doc_bonus[doc_row] * (max(weights) / (RRF_K + 1)) * (fused > 0)
    if doc_ids or years:
        ok = np.array([(not doc_ids or d.doc_id in doc_ids or d.source in doc_ids)
                       and (not years or d.year in years) for d in docs], dtype=bool)
        fused[~ok[doc_row]] = 0
    scored = np.flatnonzero(fused > 0)
    best = [int(i) for i in scored[top(fused[scored], k)]]
    return [(passages[i].passage_id, float(fused[i]), float(bm25[i]),
             None if np.isnan(dense[i]) else float(dense[i])) for i in best], doc_bonus[doc_row]


from qa.normalize import for_search  # noqa: E402

QUESTIONS = ["城中村改造拆迁了多少户？", "2018年城中村改造拆迁了多少户？", "许明讲的治水", "地铁站点建设",
             "广东省今年地区生产总值增长目标是多少？", "2025年江苏的目标", "拱墅区今年地区生产总值增长目标是多少？",
             "政府工作报告", "2019年工作情况", "到2030年", "河道水质", "宁波的港口吞吐量", ""]


@pytest.mark.parametrize("which", ["retriever", "place_retriever"])
@pytest.mark.parametrize("mode", ["bm25", "hybrid", "dense"])
def test_vectorised_search_equals_the_per_passage_one(request, which, mode):
    learned = request.getfixturevalue(which)
    r = Retriever(learned.index, learned.embedder, learned.dense_weight, ranker=None)  # fusion and bonus alone
    filters = [(None, None), (["metro", "gd"], None), (None, [2016, 2025]), (["r2018", "js"], [2018, 2025])]
    for question in QUESTIONS:
        for doc_ids, years in filters:
            expected, bonus = reference_search(r, question, 4, mode, doc_ids, years)
            got = r.search(question, 4, mode, doc_ids, years)
            assert [(h.passage.passage_id, h.score, h.scores["bm25"], h.scores["dense"]) for h in got] == expected
            np.testing.assert_array_equal(r.report_bonus(question, tokenize(question)), bonus)


def test_a_large_exact_index_is_searched_in_two_steps_from_its_second_search(built, monkeypatch):
    from qa import dense

    monkeypatch.setattr(dense, "TWO_STEP_FROM", 1)  # the test corpus is small
    _, index, embedder = built
    retriever = Retriever(index, embedder)
    assert retriever.dense_searcher() is index.dense  # a lone question: one step, no fp16 copy made
    two = retriever.dense_searcher()
    assert isinstance(two, dense.TwoStep) and retriever.dense_searcher() is two
    first = [(h.passage.passage_id, h.score) for h in Retriever(index, embedder).search("地铁站点建设", k=4)]
    assert [(h.passage.passage_id, h.score) for h in retriever.search("地铁站点建设", k=4)] == first
    swapped = dense.build(index.vectors(), index.ids, index.manifest.dim, approximate_from=10**9)
    monkeypatch.setattr(index, "dense", swapped)  # another dense index: one step again, then its own
    assert retriever.dense_searcher() is swapped and retriever.dense_searcher().exact is swapped
