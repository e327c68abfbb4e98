"""The eligibility criteria file, `knowledge/criteria.yaml`, read into validated options.

Staff edit the file; this module checks it against the schema (establishment types, area
rules, sectors, provinces, support items, next steps, legal notice) and caches it until the
file changes. `index.eligibility` applies the rules.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from index import yaml_text
from index.errors import KhuyenCongError

Verdict = Literal["likely_eligible", "not_eligible", "needs_verification"]
#: True, False or "verify" (the rule exists but depends on facts the user must confirm).
Flag = bool | Literal["verify"]

_CLEANER_HINTS = ("cleaner", "sach_hon", "san_xuat_sach", "sản xuất sạch")

_DEFAULT_NEXT_STEPS: dict[str, str] = {
    "likely_eligible": (
        "Liên hệ Trung tâm Khuyến công thuộc Sở Công Thương tỉnh/thành phố của bạn để đăng ký "
        "đề án hỗ trợ."
    ),
    "needs_verification": (
        "Liên hệ Sở Công Thương / Trung tâm Khuyến công tỉnh của bạn để được xác minh điều kiện."
    ),
    "not_eligible": (
        "Bạn vẫn có thể hỏi Sở Công Thương / Trung tâm Khuyến công tỉnh về các chương trình "
        "hỗ trợ khác."
    ),
}

_DEFAULT_LEGAL_NOTICE = (
    "Kết quả chỉ mang tính tham khảo. Mức hỗ trợ là mức tối đa theo quy định trung ương; "
    "tỉnh có thể quy định mức thấp hơn. Một số thay đổi của Nghị định 235/2025/NĐ-CP chưa được "
    "xác nhận đầy đủ."
)


class CriteriaError(KhuyenCongError):
    """The criteria file is missing or malformed."""


def _parse_flag(value: object) -> object:
    # YAML authors write yes/no/"verify"/"xác minh"; normalise before validation.
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "có"}:
            return True
        if lowered in {"false", "no", "không"}:
            return False
        if lowered in {"verify", "xac_minh", "xác minh", "unknown", "maybe"}:
            return "verify"
    return value


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return "; ".join(str(part) for part in value if part is not None) or None
    return str(value)


class CriteriaOption(BaseModel):
    """Common shape of one choice the user can pick."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    label: str
    note: str | None = None
    legal_basis: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if value is not None else value

    @field_validator("note", "legal_basis", mode="before")
    @classmethod
    def _note_as_text(cls, value: object) -> object:
        return _as_text(value)


class BeneficiaryType(CriteriaOption):
    """A kind of establishment (doanh nghiệp nhỏ và vừa, hợp tác xã, hộ kinh doanh, ...)."""

    eligible: Flag = "verify"
    #: Supported in any location (cleaner production), so the area test does not apply.
    any_area: bool = False

    @field_validator("eligible", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return _parse_flag(value)


class AreaRule(CriteriaOption):
    """Where the establishment is; `rural` says whether it counts as a rural area."""

    rural: Flag = "verify"

    @field_validator("rural", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return _parse_flag(value)


class Sector(CriteriaOption):
    """A production sector of ND 45/2012 Art. 5 (or one outside it)."""

    eligible: Flag = "verify"
    any_area: bool = False
    #: Extra condition, e.g. "only in difficult areas" for mining.
    condition: str | None = None

    @field_validator("eligible", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return _parse_flag(value)


class Province(CriteriaOption):
    """A province the knowledge base knows about, with what it knows (local rules)."""

    @property
    def is_other(self) -> bool:
        """Tells whether this entry stands for "any other province"."""
        return self.id in {"tinh_khac", "other", "khac"} or self.label.strip().lower() in {
            "tỉnh khác",
            "khác",
        }


class SupportItem(CriteriaOption):
    """One kind of support with its national maximum level and what to prepare."""

    level: str | None = None
    cap: str | None = None
    legal_basis: str | None = None
    required_documents: list[str] = Field(default_factory=list)
    confidence: str | None = None
    any_area: bool = False

    @field_validator("level", "cap", "legal_basis", "confidence", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _as_text(value)

    @field_validator("required_documents", mode="before")
    @classmethod
    def _documents(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return value

    @property
    def is_cleaner_production(self) -> bool:
        """Tells whether this support is open to establishments in any area."""
        if self.any_area or (self.model_extra or {}).get("anywhere") is True:
            return True
        haystack = f"{self.id} {self.label}".lower()
        return any(hint in haystack for hint in _CLEANER_HINTS)


class Criteria(BaseModel):
    """Everything the eligibility check asks about, loaded from `criteria.yaml`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    beneficiary_types: list[BeneficiaryType]
    area_rules: list[AreaRule]
    sectors: list[Sector]
    support_items: list[SupportItem]
    provinces: list[Province] = Field(default_factory=list)
    next_steps: dict[str, str] = Field(default_factory=dict)
    legal_notice: str = _DEFAULT_LEGAL_NOTICE

    @field_validator("provinces", mode="before")
    @classmethod
    def _provinces(cls, value: object) -> object:
        # Accept {id, label, note} entries or plain names.
        if value is None:
            return []
        entries: list[object] = []
        for entry in value if isinstance(value, list) else []:
            if isinstance(entry, dict):
                label = entry.get("label") or entry.get("name")
                entries.append({**entry, "id": entry.get("id") or label, "label": label})
            elif entry is not None:
                entries.append({"id": str(entry), "label": str(entry)})
        return entries

    @field_validator("next_steps", mode="before")
    @classmethod
    def _next_steps(cls, value: object) -> object:
        # One text for every verdict, a list of steps, or a mapping verdict -> text.
        if value is None:
            return {}
        if isinstance(value, str | list):
            text = _as_text(value) or ""
            return dict.fromkeys(_DEFAULT_NEXT_STEPS, text)
        if isinstance(value, dict):
            return {str(key): _as_text(text) or "" for key, text in value.items()}
        return value

    @field_validator("legal_notice", mode="before")
    @classmethod
    def _notice(cls, value: object) -> object:
        return _as_text(value) or _DEFAULT_LEGAL_NOTICE

    def support_item(self, item_id: str) -> SupportItem | None:
        """Returns the support item with this id, if any."""
        return next((item for item in self.support_items if item.id == item_id), None)

    def province(self, province_id: str | None) -> Province | None:
        """Returns the province with this id, if any."""
        return next((p for p in self.provinces if p.id == province_id), None)

    def next_step(self, verdict: Verdict) -> str:
        """Returns the next-step advice for a verdict."""
        return (
            self.next_steps.get(verdict)
            or self.next_steps.get("default")
            or _DEFAULT_NEXT_STEPS[verdict]
        )


def load_criteria(path: Path | str) -> Criteria:
    """Loads and validates the criteria file, cached until the file changes.

    Args:
        path: Path to `criteria.yaml`.

    Returns:
        The validated criteria.

    Raises:
        CriteriaError: If the file is missing, not YAML, or does not match the schema.
    """
    resolved = Path(path).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise CriteriaError(
            f"Criteria file {resolved} not found; add knowledge/criteria.yaml."
        ) from exc
    return _load_cached(resolved, mtime)


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> Criteria:
    # mtime_ns is part of the cache key so an edited file is re-read on the next call.
    del mtime_ns
    try:
        raw = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CriteriaError(f"Cannot read {path}: {exc}. Fix the YAML syntax.") from exc
    if not isinstance(raw, dict):
        raise CriteriaError(f"{path} must hold a YAML mapping at the top level.")
    try:
        return Criteria.model_validate(raw)
    except ValidationError as exc:
        raise CriteriaError(f"{path} does not match the criteria schema: {exc}") from exc
