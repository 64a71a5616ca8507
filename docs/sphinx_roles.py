"""A griffe extension: the package's reStructuredText docstring markup, as Markdown.

The docstrings use Sphinx roles (``:class:`X```, ``:func:`~a.b.f```, ``:mod:``,
``:meth:``, ``:attr:``, ``:data:``, ``:exc:``) and ``::`` literal-block markers;
mkdocstrings renders Markdown. At docs build time this extension rewrites every
docstring once the package is loaded, so the source stays as it is:

- a role becomes an autorefs cross-reference to the object's full path,
  resolved the way Python resolves the name in the docstring's scope. It is a
  link when the site documents that object, and plain code otherwise (an
  "optional" autoref), so ``mkdocs build --strict`` never fails on it. A
  leading ``~`` shows only the last name, as in Sphinx;
- ``Example:`` becomes ``Examples:``, the Google section whose ``>>>`` lines
  griffe renders as code blocks;
- a trailing ``::`` becomes ``:``, and a line holding only ``::`` goes (the
  indented block after it is already a Markdown code block).

Configured in ``mkdocs.yml`` under the python handler's ``extensions``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from griffe import Alias, Extension, NameResolutionError, Object

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
EXAMPLE_HEADER = re.compile(r"^(\s*)Example::?\s*$", re.MULTILINE)
LITERAL_MARKER = re.compile(r"(\S)::[ \t]*$", re.MULTILINE)
BARE_LITERAL_MARKER = re.compile(r"^[ \t]*::[ \t]*$", re.MULTILINE)
PACKAGE = "bitlogic"


def rewrite_docstring(text: str, resolve: Callable[[str], str | None]) -> str:
    """``text`` with its Sphinx roles and literal-block markers turned into Markdown.

    Args:
        text: a docstring.
        resolve: a name as written (``X``, ``a.b.X``) -> its full dotted path, or
            None when it cannot be resolved.
    """

    def role(match: re.Match[str]) -> str:
        short, written = match.group(1) == "~", match.group(2).strip()
        name = written.removesuffix("()")
        shown = html.escape(name.rsplit(".", 1)[-1] if short else written)
        target = resolve(name)
        if target is None or not target.startswith(PACKAGE):
            return f"<code>{shown}</code>"
        return f'<autoref identifier="{target}" optional><code>{shown}</code></autoref>'

    text = ROLE.sub(role, text)
    text = EXAMPLE_HEADER.sub(r"\1Examples:", text)
    text = BARE_LITERAL_MARKER.sub("", text)
    return LITERAL_MARKER.sub(r"\1:", text)


def scope_resolver(obj: Object) -> Callable[[str], str | None]:
    """Resolve names as Python would inside ``obj`` (members, parents, imports)."""

    def resolve(name: str) -> str | None:
        if name.startswith(f"{PACKAGE}."):
            return name
        head, _, rest = name.partition(".")
        try:
            base = obj.resolve(head)
        except NameResolutionError:
            return None
        return f"{base}.{rest}" if rest else base

    return resolve


class SphinxRoles(Extension):
    """Rewrite the docstrings of every object of a loaded package."""

    def on_package(self, *, pkg: Object, **kwargs: object) -> None:
        """Walk the package once it is complete, so every name can be resolved."""
        stack = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = rewrite_docstring(obj.docstring.value,
                                                        scope_resolver(obj))
            stack.extend(m for m in obj.members.values() if not isinstance(m, Alias))
