"""The user's corrections to report metadata: `<index>/overrides.json`, beside the builds.

    {"documents": [{"file": "gd-2025.txt", "part": 1, "date": "2025-01-15", "place": "广东省"}]}

Small and hand-editable, keyed by file name and part like data/corpus/catalog.json (which seeds
them). It sits in the index folder, not in a build, so it survives re-ingest and --rebuild;
`store.load` applies it to every document it loads and ingest to every document it makes.
A value removed from the file is forgotten when its report is next ingested.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from qa.types import Document

FILE_NAME = "overrides.json"
FIELDS = ("title", "date", "place", "speaker", "kind", "meeting")
CN_DATE = re.compile(r"^(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?$")


def load(root: Path) -> dict[tuple[str, int], dict]:
    """Overrides keyed by (file name, part); {} when there are none."""
    from qa.reports import load_catalog

    try:
        return load_catalog(root / FILE_NAME)
    except ValueError as exc:
        raise ValueError(str(exc).replace("catalog", "overrides file")) from None


def apply(documents, overrides: dict[tuple[str, int], dict]) -> None:
    from qa.reports import apply_facts

    for doc in documents:
        facts = overrides.get((Path(doc.source).name, doc.part))
        if facts:
            apply_facts(doc, facts, "user")


def check_date(value: str) -> str:
    """"2025", "2025-01", "2025-01-15" or "2025年1月15日" → ISO; anything else is a ValueError."""
    value = value.strip()
    m = CN_DATE.match(value)
    if m:
        value = "-".join(f"{int(g):02d}" if n else g for n, g in enumerate(m.groups()) if g)
    formats = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}
    try:
        dt.datetime.strptime(value, formats[len(value)])
    except (KeyError, ValueError):
        raise ValueError(f"bad date {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD (or 2025年1月15日)") from None
    return value


def set_fields(root: Path, doc: Document, fields: dict[str, str]) -> dict:
    """Record overrides for one document (and apply them to it); return its entry in the file."""
    fields = {k: (check_date(v) if k == "date" else v.strip()) for k, v in fields.items() if v is not None}
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"cannot override {', '.join(sorted(unknown))}: fields are {', '.join(FIELDS)}")
    path = root / FILE_NAME
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"documents": []}
    name = Path(doc.source).name
    entry = next((e for e in data["documents"] if e.get("file") == name and int(e.get("part", 1)) == doc.part), None)
    if entry is None:
        entry = {"file": name, "part": doc.part}
        data["documents"].append(entry)
    entry.update(fields)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    apply([doc], {(name, doc.part): fields})
    return entry
