"""Fill the skeleton files in ``backends/templates`` (slots are ``{{name}}``).

Every slot must be filled and every value must have a slot, so a renamed or
forgotten slot fails loudly instead of leaving text behind.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def template_slots(name: str) -> set[str]:
    """Names of the slots in template ``name``."""
    return set(_SLOT.findall((TEMPLATES / name).read_text()))


def render_template(name: str, **slots: object) -> str:
    """Return template ``name`` with each ``{{slot}}`` replaced by ``str(slots[slot])``.

    Raises:
        KeyError: a slot is left unfilled or a value has no slot.
    """
    text = (TEMPLATES / name).read_text()
    wanted = set(_SLOT.findall(text))
    missing, extra = wanted - slots.keys(), slots.keys() - wanted
    if missing or extra:
        raise KeyError(f"template {name}: unfilled slots {sorted(missing)}, "
                       f"unknown slots {sorted(extra)}")
    return _SLOT.sub(lambda m: str(slots[m.group(1)]), text)
