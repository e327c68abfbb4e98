"""A pure evaluator of khuyến công eligibility over the criteria (`index.criteria`).

The criteria live in `knowledge/criteria.yaml` (data, edited by staff); this module applies the
rules of Nghị định 45/2012/NĐ-CP as encoded there. It knows nothing about Telegram: the bot
asks the questions and shows the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from index.criteria import (
    AreaRule,
    BeneficiaryType,
    Criteria,
    CriteriaOption,
    Flag,
    Sector,
    SupportItem,
    Verdict,
)
from index.schema import Citation, DocumentMeta

#: The answer "Không rõ" for any question of the check.
UNKNOWN = "unknown"


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


def _find(options: Sequence[CriteriaOption], option_id: str | None) -> CriteriaOption | None:
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
    options: list[CriteriaOption | None] = [
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
