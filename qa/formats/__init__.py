"""One module per file format, each turning a file's bytes into text for the same cleaning path.

Every module has `read(data: bytes) -> (text, format, pages)`: `pages` is the text of each page
for formats that have pages (PDF), else []. Errors are `qa.loading.LoadError` with a one-line
reason. Libraries are imported inside `read`, so `import qa` stays light.
"""

from __future__ import annotations

from importlib import import_module


def require(module: str, package: str, what: str):
    """Import a format library, or say in one line which package to install."""
    from qa.loading import LoadError

    try:
        return import_module(module)
    except ImportError:
        raise LoadError(f"reading {what} needs the {package} package: "
                        f"pip install {package} (or reinstall qa-reports)") from None
