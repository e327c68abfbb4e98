"""YAML text parsed as `yaml.safe_load` parses it, on libyaml's C parser when PyYAML has it.

The pure-Python parser was ~15x slower on the knowledge base's word lists (criteria.yaml:
43 -> 3 ms; glossary, intents, provinces alike), read at every engine load and index build.
The C loader resolves and constructs with the same safe classes: the same values, the same
`yaml.YAMLError` subclasses on malformed text.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """The Python value of a YAML document (None for an empty one), safe tags only."""
    return yaml.load(text, Loader=_LOADER)
