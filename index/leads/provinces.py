"""The one province list: Vietnam's 34 provincial units since 2025, and the names they replace.

The data is `provinces.yaml` beside this module (Nghị quyết 202/2025/QH15). A name typed by an
owner or a staff member, with or without diacritics, resolves to the province it belongs to
*today*: "quang nam" gives Đà Nẵng (former Quảng Nam), "vung tau" gives TP. Hồ Chí Minh. A
prefix that fits several provinces ("quang") is reported as ambiguous with its candidates, so
the CLI and Telegram can both ask which one was meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from index import yaml_text
from index.textnorm import fold_key, fold_words

DATA_FILE = Path(__file__).resolve().with_name("provinces.yaml")

#: Words people put before a name that are not part of it ("tỉnh Quảng Nam", "TP. Huế").
_LEADING_WORDS = ("thanh pho", "tinh", "tp")
#: A prefix shorter than this is too vague to offer candidates for ("q", "b").
MIN_PREFIX_CHARS = 2


@dataclass(frozen=True, slots=True)
class FormerProvince:
    """A pre-2025 province merged into a current one, with its other spellings."""

    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Province:
    """One province or centrally-run city as it exists today."""

    id: str
    name: str
    kind: str  # "city" (thành phố trực thuộc trung ương) or "province"
    code: str
    aliases: tuple[str, ...] = ()
    former: tuple[FormerProvince, ...] = ()


@dataclass(frozen=True, slots=True)
class ProvinceMatch:
    """What a typed province name refers to.

    Exactly one of three: `province` is set (found, `former` names the pre-2025 province
    when the text named one), `candidates` holds two or more matches (ambiguous), or neither
    (not a province name).
    """

    query: str
    province: Province | None = None
    former: str | None = None
    candidates: tuple[ProvinceMatch, ...] = ()

    @property
    def found(self) -> bool:
        """Tells whether the text names exactly one province."""
        return self.province is not None

    @property
    def ambiguous(self) -> bool:
        """Tells whether the text fits several provinces."""
        return bool(self.candidates)

    @property
    def label(self) -> str:
        """The name to show: "Đà Nẵng (Quảng Nam cũ)", "Quảng Ngãi", or the text as typed."""
        if self.province is None:
            return " ".join(self.query.split())
        if self.former:
            return f"{self.province.name} ({self.former} cũ)"
        return self.province.name


def _names(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, list | tuple):
        return tuple(str(item) for item in raw)
    return (str(raw),)


@cache
def load_provinces(path: Path = DATA_FILE) -> tuple[Province, ...]:
    """Reads the province list (cached; the file ships with the package).

    Args:
        path: The YAML file; the packaged `provinces.yaml` by default.

    Returns:
        The provinces in file order.

    Raises:
        ValueError: If an entry lacks a field or an id is repeated.
    """
    data: dict[str, Any] = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    provinces: list[Province] = []
    for entry in data["provinces"]:
        former = tuple(
            FormerProvince(str(item["name"]), _names(item.get("aliases")))
            if isinstance(item, dict)
            else FormerProvince(str(item))
            for item in entry.get("former") or []
        )
        try:
            provinces.append(
                Province(
                    id=str(entry["id"]),
                    name=str(entry["name"]),
                    kind=str(entry["kind"]),
                    code=str(entry["code"]),
                    aliases=_names(entry.get("aliases")),
                    former=former,
                )
            )
        except KeyError as exc:
            raise ValueError(f"{path}: a province entry lacks {exc}") from exc
    ids = [province.id for province in provinces]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: repeated province id")
    return tuple(provinces)


def name_key(text: str) -> str:
    """The matching key of a province name: folded words without "tỉnh" / "thành phố" / "TP".

    Args:
        text: A province name as typed.

    Returns:
        The key, e.g. "Tỉnh Quảng Nam" -> "quang nam", "TP.HCM" -> "hcm".
    """
    key = fold_words(text)
    for word in _LEADING_WORDS:
        if key.startswith(word + " "):
            return key[len(word) + 1 :]
    return key


@cache
def _name_index() -> dict[str, tuple[Province, str | None]]:
    """Key of every name, alias and former name -> (province, former name or None)."""
    index: dict[str, tuple[Province, str | None]] = {}

    def add(text: str, province: Province, former: str | None) -> None:
        key = name_key(text)
        known = index.get(key)
        if known is not None and known[0].id != province.id:
            raise ValueError(f"{text!r} names both {known[0].name} and {province.name}")
        index.setdefault(key, (province, former))

    for province in load_provinces():
        add(province.id.replace("_", " "), province, None)
        for name in (province.name, *province.aliases):
            add(name, province, None)
        for old in province.former:
            for name in (old.name, *old.aliases):
                add(name, province, old.name)
    return index


def resolve_province(text: str) -> ProvinceMatch:
    """Finds the province a typed name refers to today.

    An exact name, alias, former name or id wins; otherwise a prefix is accepted when it
    fits one province only ("ba ria" -> TP. Hồ Chí Minh) and reported with its candidates
    when it fits several ("quang" -> Đà Nẵng (Quảng Nam cũ), Quảng Ngãi, Quảng Ninh,
    Quảng Trị).

    Args:
        text: What the user typed (a province name, an old name, an id such as "da_nang").

    Returns:
        The match; see `ProvinceMatch`.
    """
    key = name_key(text)
    if not key:
        return ProvinceMatch(query=text)
    index = _name_index()
    if key in index:
        province, former = index[key]
        return ProvinceMatch(query=text, province=province, former=former)
    if len(key) < MIN_PREFIX_CHARS:
        return ProvinceMatch(query=text)
    found: dict[str, ProvinceMatch] = {}
    for name, (province, former) in index.items():
        if not name.startswith(key):
            continue
        known = found.get(province.id)
        # A match on the current name beats one on a former name of the same province.
        if known is None or (known.former is not None and former is None):
            found[province.id] = ProvinceMatch(query=text, province=province, former=former)
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        return ProvinceMatch(query=text)
    candidates = sorted(found.values(), key=lambda match: fold_words(match.label))
    return ProvinceMatch(query=text, candidates=tuple(candidates))


def province_key(text: str) -> str:
    """The key stored with a lead and used to filter leads by province.

    Args:
        text: A province name as typed or stored.

    Returns:
        The province id when the text names one province ("Quảng Nam" -> "da_nang"), so old
        and new names of the same province agree; otherwise the folded text.
    """
    match = resolve_province(text)
    return match.province.id if match.province is not None else fold_key(text)


def province_by_id(province_id: str) -> Province | None:
    """Returns the province with this id, or None."""
    return next((p for p in load_provinces() if p.id == province_id), None)


def all_province_names() -> tuple[str, ...]:
    """Every current, alternative and former name, with diacritics (for finding names in text)."""
    names: list[str] = []
    for province in load_provinces():
        names.extend((province.name, *province.aliases))
        for old in province.former:
            names.extend((old.name, *old.aliases))
    return tuple(dict.fromkeys(names))
