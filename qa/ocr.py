"""OCR of scanned pages, offline: page images → text lines with their boxes and confidences.

Two engines, both offline and Apache-2.0:
- `rapidocr` (default): RapidOCR's ONNX build of PaddleOCR's PP-OCRv4 Chinese detection and
  recognition models, shipped inside the `rapidocr-onnxruntime` wheel (about 16 MB of models);
- `tesseract`: Debian's `tesseract-ocr` with `chi_sim`/`chi_tra`, run as a command.
README "Scanned reports (OCR)" has the figures that chose the default (scripts/bench_ocr.py).

An engine returns the page's lines in upright page coordinates: a page scanned at 90°, 180° or
270° is detected and turned first. Laying the lines out (columns, reading order, paragraphs,
running headers) is qa/formats/pdf.py's job, the same for OCR'd and text pages.

Results are cached per page image (sha256 of its pixels, with the engine and its settings) as
small JSON files, so a re-ingest does not OCR a page again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

MODES = ("auto", "always", "never")
ENGINES = ("rapidocr", "tesseract")
DPI = 200  # PDF pages are rendered at this resolution for OCR
LOW_CONFIDENCE = 0.85  # a page whose mean confidence is below this is reported after ingest
MIN_LINE_CONFIDENCE = 0.5  # lines read with less are noise (specks, stamps, pictures) and dropped
DET_SIDE = 1600  # RapidOCR finds lines on the page scaled to this longest side; reads them at full size
CACHE_VERSION = 2


class OcrUnavailable(RuntimeError):
    """The OCR engine is not installed; the message says how to install it."""


@dataclass
class OcrLine:
    text: str
    x0: float  # box in pixels of the upright page image, origin top left
    y0: float
    x1: float
    y1: float
    confidence: float


@dataclass
class OcrPage:
    width: int  # of the upright page image, in pixels
    height: int
    lines: list[OcrLine] = field(default_factory=list)
    rotation: int = 0  # degrees (counter-clockwise) the scan lay turned; it was turned back to read it
    engine: str = ""

    @property
    def confidence(self) -> float | None:
        """Mean confidence of the page's characters (None for a page with no text)."""
        chars = sum(len(ln.text) for ln in self.lines)
        if not chars:
            return None
        return sum(ln.confidence * len(ln.text) for ln in self.lines) / chars


# --- the engines -------------------------------------------------------------------------------


class RapidEngine:
    """RapidOCR (PP-OCRv4 Chinese, ONNX): finds lines on a downscaled page, reads them at full size.

    Orientation: a page whose line boxes are mostly tall is turned 90° and searched again; the
    direction classifier's vote over all lines then says whether the page is upside down.
    """

    name = "rapidocr"

    def __init__(self):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise OcrUnavailable("OCR needs the rapidocr-onnxruntime package: pip install "
                                 "rapidocr-onnxruntime==1.4.4 (or reinstall qa-reports)") from None
        import importlib.metadata

        self.version = importlib.metadata.version("rapidocr-onnxruntime")
        self.ocr = RapidOCR()
        self.settings = f"det{DET_SIDE}"

    def recognize(self, image) -> OcrPage:
        import numpy as np

        img = np.ascontiguousarray(np.asarray(image.convert("RGB")))
        boxes = self._detect(img)
        turns = 0
        if _mostly_tall(boxes):
            turns = 1
            img = np.ascontiguousarray(np.rot90(img))
            boxes = self._detect(img)
        if not len(boxes):
            return OcrPage(img.shape[1], img.shape[0], [], (-90 * turns) % 360, self.name)
        crops = self.ocr.get_crop_img_list(img, list(boxes))
        _, directions, _ = self.ocr.text_cls(crops)
        flipped = sum(len(c[0]) for c, (label, _) in zip(crops, directions) if "180" in label)
        if flipped > 0.5 * sum(len(c[0]) for c in crops):  # weighted by line length
            turns += 2
            h, w = img.shape[:2]
            img = np.ascontiguousarray(np.rot90(img, 2))
            boxes = np.stack([np.array([w, h], np.float32) - b[[2, 3, 0, 1]] for b in boxes])
            crops = [np.ascontiguousarray(np.rot90(c, 2)) for c in crops]
        read, _ = self.ocr.text_rec(crops)
        boxes = _deskewed(boxes, img.shape[1] / 2, img.shape[0] / 2)
        lines = []
        for box, (text, score) in zip(boxes, read):
            text = text.strip()
            if text and score >= MIN_LINE_CONFIDENCE:
                lines.append(OcrLine(text, float(box[:, 0].min()), float(box[:, 1].min()),
                                     float(box[:, 0].max()), float(box[:, 1].max()), round(float(score), 4)))
        lines.sort(key=lambda ln: (ln.y0, ln.x0))
        return OcrPage(img.shape[1], img.shape[0], lines, (-90 * turns) % 360, self.name)

    def _detect(self, img):
        import cv2
        import numpy as np

        h, w = img.shape[:2]
        scale = min(1.0, DET_SIDE / max(h, w))
        small = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1 else img
        boxes, _ = self.ocr.text_det(small)
        if boxes is None or not len(boxes):
            return np.zeros((0, 4, 2), np.float32)
        boxes = np.asarray(boxes, np.float32) / scale
        order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0][1], boxes[i][0][0]))
        return boxes[order]


def _deskewed(boxes, cx: float, cy: float):
    """Line boxes turned about the page centre by the page's skew (a scan a degree off level),
    measured as the median slope of the long boxes, so that margins line up again."""
    import numpy as np

    slopes = [np.arctan2(b[1][1] - b[0][1], b[1][0] - b[0][0]) for b in boxes
              if np.linalg.norm(b[1] - b[0]) > 3 * np.linalg.norm(b[3] - b[0])]
    if not slopes:
        return boxes
    angle = float(np.median(slopes))
    if abs(angle) < 0.001 or abs(angle) > 0.2:  # level already, or not a skew (a figure, a stamp)
        return boxes
    c, s = np.cos(-angle), np.sin(-angle)
    turn = np.array([[c, -s], [s, c]], np.float32)
    centre = np.array([cx, cy], np.float32)
    return [(b - centre) @ turn.T + centre for b in boxes]


def _mostly_tall(boxes) -> bool:
    """Whether most long line boxes stand upright: the page lies on its side."""
    import numpy as np

    tall = wide = 0.0
    for b in boxes:
        w = float(np.linalg.norm(b[0] - b[1]))
        h = float(np.linalg.norm(b[0] - b[3]))
        if h > 2 * w:
            tall += h
        elif w > 2 * h:
            wide += w
    return tall > 2 * wide and tall > 0


class TesseractEngine:
    """Tesseract 5 with its `chi_sim` model, run as a command: its TSV output gives words
    with boxes and confidences, grouped into lines; its OSD mode gives the page's rotation."""

    name = "tesseract"

    def __init__(self, languages: str | None = None):
        self.binary = shutil.which("tesseract")
        if not self.binary:
            raise OcrUnavailable("the tesseract engine needs Debian's tesseract-ocr, tesseract-ocr-chi-sim "
                                 "and tesseract-ocr-chi-tra (apt-get install …; `make ocr` does it)")
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        self.version = out.split("\n", 1)[0].split()[-1] if out else "?"
        installed = set(subprocess.run([self.binary, "--list-langs"], capture_output=True,
                                       text=True).stdout.split()[1:])
        self.languages = languages or "chi_sim"
        if "chi_sim" not in self.languages:
            raise OcrUnavailable("tesseract has no Chinese model: apt-get install tesseract-ocr-chi-sim")
        self.osd = "osd" in installed
        self.settings = self.languages

    def recognize(self, image) -> OcrPage:
        image = image.convert("L")
        turns = self._turns(image) if self.osd else 0
        if turns:
            image = image.rotate(90 * turns, expand=True)
        tsv = self._run(image, ["--psm", "3", "tsv"])
        rows: dict[tuple, list] = {}
        for row in tsv.splitlines()[1:]:
            cells = row.split("\t")
            if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
                continue
            key = tuple(int(c) for c in cells[1:5])  # page, block, paragraph, line
            rows.setdefault(key, []).append((cells[11].strip(), *map(int, cells[6:10]), float(cells[10])))
        lines = []
        for words in rows.values():
            text = words[0][0]
            for prev, word in zip(words, words[1:]):
                text += _space(prev[0], word[0]) + word[0]
            conf = sum(w[5] * len(w[0]) for w in words) / sum(len(w[0]) for w in words) / 100
            if conf < MIN_LINE_CONFIDENCE:
                continue
            lines.append(OcrLine(text, min(w[1] for w in words), min(w[2] for w in words),
                                 max(w[1] + w[3] for w in words), max(w[2] + w[4] for w in words), round(conf, 4)))
        return OcrPage(image.width, image.height, lines, (-90 * turns) % 360, self.name)

    def _turns(self, image) -> int:
        try:
            out = self._run(image, ["--psm", "0"], "osd")
        except OcrUnavailable:  # too little text to tell
            return 0
        for line in out.splitlines():
            if line.startswith("Rotate:"):  # degrees clockwise; PIL turns counter-clockwise
                return (-int(line.split(":")[1]) // 90) % 4
        return 0

    def _run(self, image, args: list[str], languages: str | None = None) -> str:
        import io

        buf = io.BytesIO()
        image.save(buf, "PNG")
        done = subprocess.run([self.binary, "-", "stdout", "-l", languages or self.languages, *args], input=buf.getvalue(),
                              capture_output=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        if done.returncode:
            raise OcrUnavailable(f"tesseract failed: {done.stderr.decode(errors='replace').strip()[:200]}")
        return done.stdout.decode("utf-8", errors="replace")


def _space(before: str, after: str) -> str:
    """Words of English and numbers keep a space between them; Chinese characters take none."""
    return " " if before[-1:].isascii() and after[:1].isascii() and before[-1:].isalnum() and after[:1].isalnum() else ""


_ENGINES: dict[str, object] = {}
_ENGINES_LOCK = threading.Lock()


def engine(name: str = "rapidocr"):
    """The named engine, loaded once per process. Raises OcrUnavailable when it is not installed."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}: choose one of {', '.join(ENGINES)}")
    with _ENGINES_LOCK:
        if name not in _ENGINES:
            _ENGINES[name] = RapidEngine() if name == "rapidocr" else TesseractEngine()
        return _ENGINES[name]


# --- what a reader is given: the mode, the engine, the cache, progress -------------------------


@dataclass
class Ocr:
    """How readers OCR: `mode` auto (pages without text, or with far less text than their pictures
    suggest), always (every page, ignoring the text layer) or never. `cache` is a folder of JSON
    results, or None. `progress` is shown per OCR'd page (tqdm on stderr)."""

    mode: str = "auto"
    engine_name: str = "rapidocr"
    cache: Path | None = None
    progress: bool = False
    pages_done: int = 0  # OCR'd in this run (not from the cache)
    pages_cached: int = 0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown OCR mode {self.mode!r}: choose one of {', '.join(MODES)}")

    @property
    def enabled(self) -> bool:
        return self.mode != "never"

    def recognize(self, image) -> OcrPage:
        """OCR one page image (PIL), from the cache when it was read before."""
        eng = engine(self.engine_name)
        key = None
        if self.cache is not None:
            h = hashlib.sha256(f"{CACHE_VERSION}|{eng.name}|{eng.version}|{eng.settings}|{image.mode}|"
                               f"{image.size}".encode())
            h.update(image.tobytes())
            key = h.hexdigest()
            found = _cache_read(self.cache, key)
            if found is not None:
                self.pages_cached += 1
                return found
        page = eng.recognize(image)
        self.pages_done += 1
        if key is not None:
            _cache_write(self.cache, key, page)
        return page

    def bar(self, total: int, name: str):
        """A per-page progress bar (or a stand-in with the same update/close)."""
        if not self.progress or total <= 0:
            return _NoBar()
        from tqdm import tqdm

        return tqdm(total=total, desc=f"OCR {name}", unit="页", file=sys.stderr, leave=False)


class _NoBar:
    def update(self, n: int = 1):
        pass

    def close(self):
        pass


def _cache_read(folder: Path, key: str) -> OcrPage | None:
    path = folder / key[:2] / f"{key}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return OcrPage(raw["width"], raw["height"], [OcrLine(**ln) for ln in raw["lines"]], raw["rotation"],
                       raw["engine"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _cache_write(folder: Path, key: str, page: OcrPage) -> None:
    path = folder / key[:2] / f"{key}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(asdict(page), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written only costs time
        pass


def available(name: str = "rapidocr") -> str | None:
    """None when the engine can be loaded, else the reason it cannot."""
    try:
        engine(name)
    except OcrUnavailable as exc:
        return str(exc)
    return None
