# The two commands: `make run` (set up, index the bundled corpus, serve the chat app) and
# `make test` (set up, run the tests). Both install everything they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup browser tesseract index run test eval eval-variants train train-check bench bench-app bench-ocr clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

index: setup
	$(VENV)/bin/qa ingest data/corpus --index index

# the corpus is ingested by the app itself (only what changed), not by `make index` first: one
# process start, not two
run: setup
	$(PY) app.py --index index --corpus data/corpus

# tests/test_browser.py drives Debian's Chromium (Playwright's own browser download is not used).
# Installed only when missing; outside CI a failed install just means that test is skipped.
CHROMIUM ?= /usr/bin/chromium
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -e $(CJK_FONT) ]; then \
	  echo "installing chromium and fonts-wqy-microhei for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  { $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-wqy-microhei; } \
	  || { if [ -n "$$CI" ]; then exit 1; else echo "could not install chromium: tests/test_browser.py will be skipped"; fi; }; \
	fi

# OCR: the default engine (RapidOCR) comes with the Python package; Tesseract, the other engine
# (QA_OCR_ENGINE=tesseract), is Debian's, installed like chromium above for its test.
TESSERACT ?= /usr/bin/tesseract
TESSDATA ?= /usr/share/tesseract-ocr/5/tessdata
tesseract:
	@if [ ! -x $(TESSERACT) ] || [ ! -e $(TESSDATA)/chi_sim.traineddata ]; then \
	  echo "installing tesseract-ocr with its Chinese models for the tesseract OCR engine"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  { $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra; } \
	  || { if [ -n "$$CI" ]; then exit 1; else echo "could not install tesseract: its tests will be skipped"; fi; }; \
	fi

test: setup browser tesseract
	$(PY) -m pytest -q

# Every figure on every part of the fixed split (held-out parts first); needs ../shared (reports, mrc).
eval: setup
	$(PY) scripts/eval_parts.py

# The tune reports' questions asked again of the reports in other forms: years moved, one line,
# a web page, traditional characters (README › Evaluation).
eval-variants: setup
	$(PY) scripts/eval_variants.py

# Rebuild qa/models/ranker.json, then qa/models/answerer.json (which learns from the ranker's
# results), from the tune/train parts (deterministic; about 8 minutes).
train: setup
	$(PY) scripts/train_ranker.py
	$(PY) scripts/train_answerer.py

# Train both models again into build/check/ and fail unless they are the shipped files byte for byte
# (the answerer learns from the shipped ranker, so the ranker is compared first).
train-check: setup
	mkdir -p build/check
	$(PY) scripts/train_ranker.py --out build/check/ranker.json
	cmp build/check/ranker.json qa/models/ranker.json
	$(PY) scripts/train_answerer.py --out build/check/answerer.json
	cmp build/check/answerer.json qa/models/answerer.json
	@echo "make train writes the shipped model files"

bench: index
	$(PY) scripts/bench_ask.py --index index

bench-ocr: setup tesseract
	$(PY) scripts/bench_ocr.py

bench-app: index browser
	$(PY) scripts/bench_app.py --index index

clean:
	rm -rf index/build-* index/CURRENT index/.*.partial
