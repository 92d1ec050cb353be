"""End to end through the CLI: ingest the bundled corpus, answer the dev set, check the answers.

The floors sit just under what the learned answerer measures on the whole dev set today (README,
"Results"): the earlier bar of 0.8 was met by rules tuned question by question on this very set,
which did not hold on reports nobody tuned for. They guard against regressions; the figures that
matter are the held-out ones of `make eval`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cleaning import clean
from qa.evaluation import correct, load_dataset, relevant
from qa.loading import read_file
from qa.reports import documents_from

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def qa(*args, **kw):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_EMBED_MODEL": "no-such/model-offline"}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600, **kw)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    done = qa("ingest", "data/corpus", "--index", str(folder))
    assert done.returncode == 0, done.stderr
    assert "documents: 7" in done.stdout
    assert "corpus-static" in done.stderr  # says which model is in use, and how to get the better one
    return folder


@pytest.fixture(scope="module")
def answers(index):
    out = qa("ask", "--json", "--questions", "data/eval/dev.jsonl", "--index", str(index))
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_the_example_question_cites_the_report_that_says_it(index):
    out = qa("ask", "2017年计划拆迁多少户？", "--json", "--index", str(index))
    result = json.loads(out.stdout)
    assert result["answerable"] and "4000" in result["short_answer"]
    cited = result["citations"][0]
    assert "4000" in cited["quote"] and cited["quote"] in cited["text"]
    # recorded relative to the folder holding the index, absolute outside it (never to the working folder)
    assert (ROOT / cited["source"]).resolve().parent == ROOT / "data" / "corpus"


def test_dev_set_answers(answers):
    rows = load_dataset(ROOT / "data" / "eval" / "dev.jsonl")
    assert [a["question"] for a in answers] == [r["question"] for r in rows]
    pairs = [(r, a) for r, a in zip(rows, answers) if r["answerable"]]
    cited = sum(a["answerable"] and any(relevant(r, c["text"]) for c in a["citations"]) for r, a in pairs)
    right = sum(a["answerable"] and correct(r, a["answer"]) for r, a in pairs)
    refused = [a["answerable"] is False for r, a in zip(rows, answers) if not r["answerable"]]
    assert cited / len(pairs) >= 0.75
    assert right / len(pairs) >= 0.75
    # the refusal threshold keeps at most 5% of answerable tune questions refused out of fold (issue 9's
    # operating point); at it, 8 of the 17 unanswerable dev questions are refused (9 with the models of
    # 52b3441, 8 with those of aa3300d: the floor leaves room for one question fewer; README › Results)
    assert sum(refused) / len(refused) >= 0.40
    assert sum(not a["answerable"] for _, a in pairs) / len(pairs) <= 0.2


def test_every_citation_points_into_its_cleaned_report(answers):
    docs = {}
    for source in {c["source"] for a in answers for c in a["citations"]}:
        text = clean(read_file(ROOT / source).text)
        docs.update({d.doc_id: d for d in documents_from(source, text, "", {})})
    cited = [c for a in answers for c in a["citations"]]
    assert cited
    for c in cited:
        assert c["quote"] in c["text"]
        assert docs[c["doc_id"]].text[c["start"]:c["end"]] == c["text"]


def test_unchanged_corpus_is_not_reingested(index):
    again = qa("ingest", "data/corpus", "--index", str(index), "--json")
    summary = json.loads(again.stdout)
    assert summary["unchanged"] == 5 and summary["added"] == [] and summary["documents"] == 7
