"""Stage 1: find report files and read them as text, whatever their format and encoding.

Plain text and Markdown are read here; PDF, Word, HTML and pictures (scanned pages, read by OCR)
by one small module each in qa/formats, chosen by suffix (READERS). A file that cannot be read (binary, empty, undecodable, broken) is
skipped with a one-line reason; the rest are still loaded.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

# suffix → module of qa.formats that reads it (None: plain text, read here)
READERS = {".txt": None, ".md": None, ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html",
           ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image"}
OCR_READERS = {"pdf", "image"}  # readers that take the OCR settings
SUFFIXES = tuple(READERS)  # what ingest and the chat app's upload accept
HINTS = {".doc": "save it as .docx", ".wps": "save it as .docx", ".xhtml": "rename it to .html"}
MAX_BYTES = 200 * 1024 * 1024
AUXILIARY = {"catalog.json"}  # files of a corpus folder that are not reports

# The 300 most frequent Chinese characters (simplified). A right guess at the encoding gives text
# in which a large share of characters are among them; a wrong one gives rare characters.
COMMON = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
    "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
    "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明"
    "看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料"
    "象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶"
)


@dataclass
class Page:
    text: str
    continues: bool = False  # opens in the middle of the previous page's last paragraph
    ocr: float | None = None  # mean OCR confidence when the page was (partly) read by OCR


@dataclass
class SourceFile:
    path: Path
    text: str
    encoding: str  # of a text file; the format ("pdf", "docx") for the others
    content_hash: str  # sha256 of the bytes
    pages: list[Page] = field(default_factory=list)  # for formats with pages (PDF); text is their join
    properties: dict[str, str] = field(default_factory=dict)  # the file's own title/subject (PDF, Word)


@dataclass
class Skipped:
    path: Path
    reason: str


class LoadError(Exception):
    """A file cannot be ingested; the message is the one-line reason."""


def find_files(paths: list[str | Path]) -> tuple[list[Path], list[Skipped]]:
    """Expand files and folders into the supported files they hold, in a stable order.

    Inside a folder, hidden files and folders are ignored; links are followed only to files inside
    the folder; anything else that is not taken (another type, a link leading out, a FIFO, a name
    that is not UTF-8, a folder that cannot be read) is skipped with a one-line reason.
    """
    found, skipped = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _walk(path, found, skipped)
        elif path.is_file():
            if not _utf8_name(path):
                skipped.append(Skipped(path, NOT_UTF8))
            elif path.suffix.lower() in SUFFIXES:
                found.append(path)
            else:
                skipped.append(Skipped(path, _unsupported(path)))
        elif path.exists():
            skipped.append(Skipped(path, f"not a regular file ({_kind(path)})"))
        else:
            skipped.append(Skipped(path, "no such file or folder"))
    return found, skipped


NOT_UTF8 = "the file name is not valid UTF-8 (unpacked from an archive made on another system?): rename it"


def _walk(folder: Path, found: list[Path], skipped: list[Skipped]) -> None:
    inside = folder.resolve()

    def unreadable(err: OSError) -> None:
        skipped.append(Skipped(Path(err.filename or folder), f"cannot read this folder ({err.strerror})"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in dirnames[:]:
            if (here / d).is_symlink():  # never walked: it may lead out of the folder or loop
                dirnames.remove(d)
                skipped.append(Skipped(here / d, "a link to a folder: not followed (copy the folder in instead)"))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = here / name
            if not _utf8_name(p):
                skipped.append(Skipped(p, NOT_UTF8))
                continue
            if p.is_symlink():
                target = p.resolve()
                if not target.is_relative_to(inside):
                    skipped.append(Skipped(p, "a link to a file outside the folder: not followed"))
                    continue
            try:
                mode = p.stat().st_mode
            except OSError as exc:
                skipped.append(Skipped(p, f"cannot read it ({exc.strerror})"))
                continue
            if not stat.S_ISREG(mode):
                skipped.append(Skipped(p, f"not a regular file ({_kind(p)})"))
            elif p.suffix.lower() in SUFFIXES:
                found.append(p)
            elif p.name not in AUXILIARY:
                skipped.append(Skipped(p, _unsupported(p)))


def _utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _kind(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        return "a broken link"
    return ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")


def shown(path) -> str:
    """A path as it can be printed: bytes that are not UTF-8 as \\xNN escapes."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _unsupported(path: Path) -> str:
    hint = HINTS.get(path.suffix.lower())
    return (f"unsupported file type {path.suffix or '(none)'}: "
            f"{hint + '; ' if hint else ''}supported are {', '.join(SUFFIXES)}")


def read_file(path: Path, ocr=None) -> SourceFile:
    """Read one file; `ocr` (qa.ocr.Ocr) says how scanned pages and pictures are OCR'd."""
    if path.stat().st_size > MAX_BYTES:
        raise LoadError(f"file is larger than {MAX_BYTES // 2**20} MiB")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise LoadError("file is empty")
    module = READERS.get(path.suffix.lower())
    if module is None:
        text, encoding = decode(data)
        pages = []
    else:
        reader = import_module(f"qa.formats.{module}")
        text, encoding, pages = reader.read(data, ocr) if module in OCR_READERS else reader.read(data)
    if not text.strip():
        raise LoadError("file is empty" if module is None else f"no text found in this {module} file")
    props = reader.properties(data) if module and hasattr(reader, "properties") else {}
    return SourceFile(path, text, encoding, digest, pages, props)


def load(paths: list[str | Path]) -> tuple[list[SourceFile], list[Skipped]]:
    files, skipped = find_files(paths)
    loaded = []
    for path in files:
        try:
            loaded.append(read_file(path))
        except (LoadError, OSError) as exc:
            skipped.append(Skipped(path, str(exc)))
    return loaded, skipped


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Tries BOMs, then UTF-8, then the Chinese legacy encodings."""
    # UTF-32 first: its little-endian mark begins with UTF-16's
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return _normalise_newlines(data.decode(name)), name
            except UnicodeDecodeError:
                raise LoadError(f"starts with a {name} byte-order mark but is not valid {name}") from None
    if not data.strip():
        return "", "utf-8"
    if b"\x00" in data[:8192]:
        for name, zeros in (("utf-32-le", data[3::4]), ("utf-32-be", data[0::4])):
            if len(data) % 4 == 0 and not zeros.strip(b"\x00"):  # every fourth byte is 0: UTF-32 without a mark
                try:
                    return _normalise_newlines(data.decode(name)), name
                except UnicodeDecodeError:
                    break
        wide = _wide_text(data)
        if wide:
            return wide
        raise LoadError("binary file (contains NUL bytes), not text")
    try:
        return _normalise_newlines(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    # UTF-16 without a byte-order mark: Chinese text in it has no NUL bytes, and decodes as GB18030
    # too, into rare characters; the share of common characters tells them apart
    wide = ("utf-16-le", "utf-16-be") if len(data) % 2 == 0 else ()
    for name in ("gb18030", "big5", *wide):
        try:
            candidates.append((_common_share(data.decode(name)), name))
        except UnicodeDecodeError:
            continue
    if not candidates:
        raise LoadError("cannot decode as UTF-8, GB18030/GBK, Big5 or UTF-16")
    share, name = max(candidates, key=lambda c: (c[0], c[1] == "gb18030", c[1] == "big5"))
    if share < 0.05 and len(data) >= 64:  # short texts have too few characters to judge
        raise LoadError(f"does not look like Chinese or English text in any known encoding")
    return _normalise_newlines(data.decode(name)), name


def _wide_text(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a byte-order mark ("一" is 00 4E in it): text if one byte order gives readable
    text (no control characters, common Chinese characters), else None."""
    if len(data) % 2:
        return None
    best = None
    for name in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if c < " " and c not in "\n\r\t")
        share = _common_share(text)
        if controls <= len(text) // 100 and share >= 0.2 and (best is None or share > best[0]):
            best = (share, text, name)
    return (_normalise_newlines(best[1]), best[2]) if best else None


def _common_share(text: str) -> float:
    from qa.normalize import to_simplified

    han = [c for c in to_simplified(text) if "\u4e00" <= c <= "\u9fff"]
    ascii_letters = sum(c.isascii() and c.isalpha() for c in text)
    if not han:
        return 1.0 if ascii_letters else 0.0
    return sum(c in COMMON for c in han) / len(han)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
