"""Report views of the canonical RunReport, selectable by name.

Each view is one entry in WRITERS: (file name, render function path). A new view (SARIF, HTML,
...) is one more entry; `--format` and `mcpcheck report --format` pick it up from here.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from pathlib import Path
from typing import Callable

from .model import RunReport

# name -> (file written into the report directory, "module:function" rendering RunReport -> str)
WRITERS: dict[str, tuple[str, str]] = {
    "json": ("report.json", "json_report:render_json"),
    "markdown": ("report.md", "markdown:render_markdown"),
    "junit": ("junit.xml", "junit:render_junit"),
    "sarif": ("mcpcheck.sarif", "sarif:render_sarif"),
    "html": ("report.html", "html:render_html"),
}
ALIASES = {"md": "markdown", "xml": "junit", "junit-xml": "junit", "sarif-2.1.0": "sarif", "htm": "html"}
DEFAULT_FORMATS = ["json", "markdown", "junit"]


class UnknownFormat(ValueError):
    pass


def parse_formats(values: list[str] | str | None) -> list[str]:
    """Normalise `--format a,b --format c` (aliases, duplicates) into view names, in order."""
    if values is None:
        return list(DEFAULT_FORMATS)
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        for raw in str(value).split(","):
            name = raw.strip().lower()
            if not name:
                continue
            name = ALIASES.get(name, name)
            if name not in WRITERS:
                raise UnknownFormat(f"unknown report format {raw.strip()!r} (supported: {', '.join(WRITERS)})")
            if name not in out:
                out.append(name)
    return out


def renderer(name: str) -> Callable[[RunReport], str]:
    [name] = parse_formats([name])
    module, func = WRITERS[name][1].split(":")
    return getattr(import_module(f"{__name__}.{module}"), func)


def render(report: RunReport, name: str, directory: str | Path | None = None) -> str:
    """The view `name` of `report`; `directory` (the report directory) for views that embed its files."""
    fn = renderer(name)
    if directory is not None and "directory" in inspect.signature(fn).parameters:
        return fn(report, directory=Path(directory))
    return fn(report)


def write_reports(report: RunReport, directory: str | Path, formats: list[str] | None = None) -> list[Path]:
    """Write each requested view into `directory`; returns the paths written, in order."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in parse_formats(formats):
        path = out / WRITERS[name][0]
        # a view that embeds files of the report directory (HTML: load charts) gets `directory`
        path.write_text(render(report, name, directory=out), encoding="utf-8")
        written.append(path)
    return written
