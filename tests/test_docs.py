"""The docs site: it builds strictly, cross-references are links, examples are code.

The site is read from ``$BITLOGIC_DOCS_SITE`` when the test command built it
(``scripts/test.sh``), else built here into a temporary folder. Without
mkdocs these tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
RAW_ROLE = re.compile(r":(?:py:)?(?:class|func|mod|meth|attr|data|exc):`")
# The widest code line a page shows without a scroll bar at the default width.
MAX_CODE_LINE = 90


def _require_module(name: str) -> None:
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed (pip install -e '.[docs]')"
        if IN_CI:
            pytest.fail(message + " (CI=true: required)")
        pytest.skip(message)


def _roles_extension():
    _require_module("griffe")
    spec = importlib.util.spec_from_file_location("sphinx_roles", ROOT / "docs" / "sphinx_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    built = os.environ.get("BITLOGIC_DOCS_SITE")
    if built and (Path(built) / "index.html").is_file():
        return Path(built)
    _require_module("mkdocs")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_roles_resolve_in_scope_and_fall_back_to_code():
    roles = _roles_extension()
    known = {"NetlistLayer": "bitlogic.netlist.ir.NetlistLayer", "torch": "torch"}
    text = roles.rewrite_docstring(
        "a :class:`NetlistLayer`, :func:`~bitlogic.train.load_preset`, :mod:`torch`, "
        ":meth:`nowhere`.", lambda name: name if name.startswith("bitlogic.") else known.get(name))
    assert text == (
        'a <autoref identifier="bitlogic.netlist.ir.NetlistLayer" optional>'
        "<code>NetlistLayer</code></autoref>, "
        '<autoref identifier="bitlogic.train.load_preset" optional>'
        "<code>load_preset</code></autoref>, <code>torch</code>, <code>nowhere</code>.")


def test_examples_and_literal_blocks_become_markdown():
    roles = _roles_extension()
    text = roles.rewrite_docstring("Run.\n\nExample:\n    >>> 1 + 1\n    2\n\nTypical use::\n"
                                   "\n::\n\n    code\n", lambda name: None)
    assert text == "Run.\n\nExamples:\n    >>> 1 + 1\n    2\n\nTypical use:\n\n\n\n    code\n"


class _Text(HTMLParser):
    """The page's text outside ``<pre>`` blocks (where code belongs)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.outside: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "pre"

    def handle_endtag(self, tag):
        self.depth -= tag == "pre"

    def handle_data(self, data):
        if not self.depth:
            self.outside.append(data)


def _pages(site: Path) -> list[Path]:
    pages = sorted(p for p in site.rglob("index.html") if "assets" not in p.parts)
    assert len(pages) >= 10, pages
    return pages


def test_no_raw_sphinx_role_in_the_html(site):
    raw = {str(p.relative_to(site)): RAW_ROLE.findall(p.read_text(encoding="utf-8"))
           for p in _pages(site)}
    assert not {page: found for page, found in raw.items() if found}


def test_cross_references_are_links(site):
    api = (site / "api" / "netlist" / "index.html").read_text(encoding="utf-8")
    # The module docstring's ":class:`LogicNetlist`" is a link to the class on the page.
    assert re.search(r'<a class="autorefs autorefs-internal"[^>]*href="[^"]*'
                     r'#bitlogic\.netlist\.LogicNetlist"', api)


def test_doctest_examples_render_as_code(site):
    for page in _pages(site):
        parser = _Text()
        parser.feed(page.read_text(encoding="utf-8"))
        prompts = [t for t in parser.outside if ">>>" in t]
        assert not prompts, (page, prompts[:3])


def test_the_pages_that_teach_are_in_the_site(site):
    for page in ("own-data", "deploy", "netlist-format", "conventions", "training"):
        assert (site / page / "index.html").is_file(), page
    home = (site / "index.html").read_text(encoding="utf-8")
    for heading in ("Install", "Quickstart", "Headline figures"):
        assert f">{heading}<" in home, heading


def test_no_code_line_is_cut_off():
    long = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        fenced = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif fenced and len(line) > MAX_CODE_LINE:
                long.append(f"{page.relative_to(ROOT)}:{number} ({len(line)} chars)")
    assert not long


def test_names_resolve_as_python_resolves_them_in_the_docstring_scope():
    roles = _roles_extension()
    import griffe

    package = griffe.load("bitlogic.netlist", search_paths=[str(ROOT / "src")])
    ir = package["ir"]
    resolve = roles.scope_resolver(ir["LogicNetlist"]["save"])
    assert resolve("LogicNetlist.load") == "bitlogic.netlist.ir.LogicNetlist.load"  # parent
    assert resolve("InputScaling") == "bitlogic.netlist.scaling.InputScaling"  # an import
    assert resolve("bitlogic.train.train") == "bitlogic.train.train"
    assert resolve("no_such_name") is None
