"""Eligibility criteria for khuyến công support and a pure evaluator over them.

The criteria live in `knowledge/criteria.yaml` (data, edited by staff); this module only reads
them and applies the rules of Nghị định 45/2012/NĐ-CP as encoded there. It knows nothing about
Telegram: the bot asks the questions and shows the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from index import yaml_text
from index.errors import KhuyenCongError
from index.schema import Citation, DocumentMeta

#: The answer "Không rõ" for any question of the check.
UNKNOWN = "unknown"

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


class _Option(BaseModel):
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


class BeneficiaryType(_Option):
    """A kind of establishment (doanh nghiệp nhỏ và vừa, hợp tác xã, hộ kinh doanh, ...)."""

    eligible: Flag = "verify"
    #: Supported in any location (cleaner production), so the area test does not apply.
    any_area: bool = False

    @field_validator("eligible", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return _parse_flag(value)


class AreaRule(_Option):
    """Where the establishment is; `rural` says whether it counts as a rural area."""

    rural: Flag = "verify"

    @field_validator("rural", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return _parse_flag(value)


class Sector(_Option):
    """A production sector of ND 45/2012 Art. 5 (or one outside it)."""

    eligible: Flag = "verify"
    any_area: bool = False
    #: Extra condition, e.g. "only in difficult areas" for mining.
    condition: str | None = None

    @field_validator("eligible", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        return _parse_flag(value)


class Province(_Option):
    """A province the knowledge base knows about, with what it knows (local rules)."""

    @property
    def is_other(self) -> bool:
        """Tells whether this entry stands for "any other province"."""
        return self.id in {"tinh_khac", "other", "khac"} or self.label.strip().lower() in {
            "tỉnh khác",
            "khác",
        }


class SupportItem(_Option):
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


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    """The outcome of one check: verdict, reasons, matching support items and advice."""

    verdict: Verdict
    reasons: list[str]
    support_items: list[SupportItem]
    next_step: str
    legal_notice: str
    answers: dict[str, Any] = field(default_factory=dict)
    #: Remarks that do not change the verdict (e.g. items that do not apply).
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Returns a plain, picklable summary (answers, verdict, reasons, item ids)."""
        return {
            **self.answers,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "matched_support_items": [item.id for item in self.support_items],
        }


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


def _find(options: Sequence[_Option], option_id: str | None) -> _Option | None:
    if option_id is None or option_id == UNKNOWN:
        return None
    return next((option for option in options if option.id == option_id), None)


def evaluate_eligibility(
    criteria: Criteria,
    *,
    establishment_type: str | None,
    area: str | None,
    sector: str | None,
    support_items: Sequence[str] = (),
    province: str | None = None,
) -> EligibilityResult:
    """Applies the criteria to one establishment's answers.

    Not eligible when the establishment type or the sector is excluded, or when the area is
    not rural and none of the wanted support is open to every area (cleaner production).
    Needs verification when any answer is unknown or a rule is marked "verify" (for example
    mining, which is supported only in difficult areas). Otherwise likely eligible.

    Args:
        criteria: The loaded criteria.
        establishment_type: Id of a beneficiary type, or `UNKNOWN`.
        area: Id of an area rule, or `UNKNOWN`.
        sector: Id of a sector, or `UNKNOWN`.
        support_items: Ids of the wanted support items; empty means "show all"; `UNKNOWN`
            in the list means the user does not know yet.
        province: Province id (or name), or `UNKNOWN`.

    Returns:
        The verdict with reasons, the matching support items, the next step and the legal
        notice (always present).
    """
    blocking: list[str] = []
    to_verify: list[str] = []

    kind = _find(criteria.beneficiary_types, establishment_type)
    if kind is None:
        to_verify.append("Chưa rõ loại hình cơ sở.")
    elif isinstance(kind, BeneficiaryType) and kind.eligible is False:
        blocking.append(kind.note or f"Loại hình “{kind.label}” không thuộc đối tượng hỗ trợ.")
    elif isinstance(kind, BeneficiaryType) and kind.eligible == "verify":
        to_verify.append(kind.note or f"Loại hình “{kind.label}” cần được xác minh.")

    wanted_ids = [item_id for item_id in support_items if item_id != UNKNOWN]
    if UNKNOWN in support_items:
        to_verify.append("Chưa rõ nội dung hỗ trợ cần đăng ký.")
    chosen = [item for item in criteria.support_items if item.id in wanted_ids]
    candidates = chosen or list(criteria.support_items)

    sector_option = _find(criteria.sectors, sector)
    any_area = (isinstance(sector_option, Sector) and sector_option.any_area) or (
        isinstance(kind, BeneficiaryType) and kind.any_area
    )
    if sector_option is None:
        to_verify.append("Chưa rõ ngành nghề sản xuất.")
    elif isinstance(sector_option, Sector) and sector_option.eligible is False:
        blocking.append(
            sector_option.note
            or f"Ngành nghề “{sector_option.label}” không thuộc danh mục được hỗ trợ."
        )
    elif isinstance(sector_option, Sector) and sector_option.eligible == "verify":
        to_verify.append(
            sector_option.condition
            or sector_option.note
            or f"Ngành nghề “{sector_option.label}” cần được xác minh."
        )

    place = _find(criteria.area_rules, area)
    rural: Flag | None = place.rural if isinstance(place, AreaRule) else None
    notes: list[str] = []
    if any_area:
        pass  # cleaner production: the area test does not apply (ND 45/2012, Art. 1.2)
    elif place is None:
        to_verify.append("Chưa rõ địa bàn của cơ sở (nông thôn hay đô thị).")
    elif rural == "verify":
        to_verify.append(place.note or f"Địa bàn “{place.label}” cần được xác minh.")
    elif rural is False:
        # Outside rural areas only cleaner production is supported (ND 45/2012, Art. 1.2).
        anywhere = [item for item in candidates if item.is_cleaner_production]
        outside_rule = (
            "Cơ sở ngoài khu vực nông thôn chỉ được hỗ trợ khi áp dụng sản xuất sạch hơn."
        )
        if chosen and anywhere:
            if len(anywhere) < len(candidates):
                notes.append(outside_rule + " Các nội dung khác bạn chọn không áp dụng.")
            candidates = anywhere
        elif chosen:
            blocking.append(outside_rule)
        else:
            to_verify.append(outside_rule)
            candidates = anywhere or candidates

    if province is None or province == UNKNOWN:
        to_verify.append("Chưa rõ tỉnh/thành phố; mức hỗ trợ cụ thể do tỉnh quy định.")

    verdict: Verdict
    if blocking:
        verdict, reasons = "not_eligible", blocking
    elif to_verify:
        verdict, reasons = "needs_verification", to_verify
    else:
        verdict, reasons = "likely_eligible", []

    answers: dict[str, Any] = {
        "establishment_type": establishment_type or UNKNOWN,
        "area": area or UNKNOWN,
        "sector": sector or UNKNOWN,
        "support_items": list(support_items),
        "province": province or UNKNOWN,
    }
    return EligibilityResult(
        verdict=verdict,
        reasons=reasons,
        support_items=[] if verdict == "not_eligible" else candidates,
        next_step=criteria.next_step(verdict),
        legal_notice=criteria.legal_notice,
        answers=answers,
        notes=notes,
    )


def basis_citations(
    criteria: Criteria, result: EligibilityResult, docs: Iterable[DocumentMeta]
) -> list[Citation]:
    """The indexed documents the result's legal basis names, as citations with their status.

    The basis texts ("Nghị định 45/2012/NĐ-CP, Điều 1 khoản 2") of the chosen establishment
    type, sector and area and of every support item shown are matched by number against
    the indexed documents, so a basis that has been amended or superseded gets the same
    notice as a cited passage would.

    Args:
        criteria: The loaded criteria.
        result: The verdict.
        docs: The indexed documents (status overrides applied).

    Returns:
        One citation per named document, in order of first mention.
    """
    from index.answering import document_citation
    from index.lifecycle import named_documents

    answers = result.answers
    options: list[_Option | None] = [
        _find(criteria.beneficiary_types, answers.get("establishment_type")),
        _find(criteria.sectors, answers.get("sector")),
        _find(criteria.area_rules, answers.get("area")),
        *result.support_items,
    ]
    docs = list(docs)
    cited: dict[str, Citation] = {}
    for option in options:
        if option is None or not option.legal_basis:
            continue
        for doc in named_documents(option.legal_basis, docs):
            cited.setdefault(doc.doc_id, document_citation(doc))
    return list(cited.values())
