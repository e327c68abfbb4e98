"""The named entities of every answer unit, found once at build time and saved with the index.

Finding them (`Lexicon.find` over ~1,500 units of the legal eval index) was most of an
engine's load: 15.7 of 20 s profiled under load, 1.3-2.3 s on a quiet machine. A build
writes them to `unit_entities.json` in the version directory (covered by the manifest's
checksums like every version file); the engine reads them instead.

The file records a key of what finding depends on: the lexicon's names (provinces,
support items) and `ENTITIES_VERSION`. An engine whose lexicon differs (entities.yaml or
the province list edited after the build) or an older index without the file finds them
again, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.lexicon import Entities, Lexicon, Mention
from index.units import AnswerUnit, UnitStore

logger = logging.getLogger(__name__)

ENTITIES_NAME = "unit_entities.json"
#: Bump when `Lexicon.find` finds something else for the same names (saved files go stale).
ENTITIES_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedEntities:
    """The entities a build found, one `Entities` per unit row, with the key they hold for."""

    key: str
    entities: tuple[Entities, ...]


def entity_text(unit: AnswerUnit) -> str:
    """The text of a unit whose entities count: its label, text and list items."""
    return " ".join([unit.label, unit.text, *unit.items])


def names_key(lexicon: Lexicon) -> str:
    """A hash of everything `Lexicon.find` matches by name, and of the finder's version."""
    payload = json.dumps([ENTITIES_VERSION, lexicon.provinces, lexicon.items], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def find_unit_entities(units: UnitStore, lexicon: Lexicon) -> SavedEntities:
    """Finds the entities of every unit (what a build saves).

    Args:
        units: The index's answer units.
        lexicon: The lexicon of the knowledge directory.

    Returns:
        The entities, in unit row order, with `names_key(lexicon)`.
    """
    found = tuple(lexicon.find(entity_text(unit)) for unit in units.units)
    return SavedEntities(names_key(lexicon), found)


def save_unit_entities(path: Path, saved: SavedEntities) -> None:
    """Writes the entities as compact JSON: one list of mentions per unit."""
    rows = [
        [[m.kind, m.key, m.start, m.end, m.parent] for m in entities.mentions]
        for entities in saved.entities
    ]
    text = json.dumps({"key": saved.key, "units": rows}, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text, encoding="utf-8")


def load_unit_entities(path: Path) -> SavedEntities:
    """Reads a file written by `save_unit_entities`.

    Raises:
        OSError, ValueError, KeyError, TypeError: The file is unreadable or malformed
            (`index.store.load_version` reports the version as damaged).
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    entities = tuple(
        Entities(tuple(Mention(str(k), str(key), int(s), int(e), str(p)) for k, key, s, e, p in row))
        for row in data["units"]
    )
    return SavedEntities(str(data["key"]), entities)


def usable_entities(
    saved: SavedEntities | None, lexicon: Lexicon, count: int
) -> Sequence[Entities]:
    """The saved entities when they hold for this lexicon and unit count, else none.

    Args:
        saved: What the index version holds (None for an index built before the file).
        lexicon: The lexicon the engine answers with.
        count: Number of answer units of the index.

    Returns:
        One `Entities` per unit row, or an empty sequence (the engine then finds them).
    """
    if saved is None:
        return ()
    if len(saved.entities) != count or saved.key != names_key(lexicon):
        logger.info("Unit entities were found with other names or units: finding them again")
        return ()
    return saved.entities
