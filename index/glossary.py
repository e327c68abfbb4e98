"""A small bilingual glossary of the industrial-promotion domain, for English questions.

The knowledge base is Vietnamese. An English question ("What support is there for trade
fairs abroad?") shares no word with it, and the e5 cosine alone cannot tell it from an
off-topic English question. Rendering the question's domain terms in Vietnamese gives BM25,
the sentence choice and the confidence something to match. A question with no domain term
("Recommend a good laptop") gets no rendering, so it still abstains.

A second, much smaller table lists Vietnamese words that documents use for the same idea
as common question words ("khó khăn" is written "hạn chế", "còn thiếu", "vướng mắc").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.textnorm import fold_diacritics, has_diacritics

# English phrase -> Vietnamese terms of this domain. Keys are matched on whole words after
# a light plural stemming (`_stem`). `GENERIC` keys are too common to prove by themselves
# that a question is about industrial promotion.
GLOSSARY: dict[str, str] = {
    "industrial promotion": "khuyến công",
    "industry promotion": "khuyến công",
    "industrial extension": "khuyến công",
    "promotion": "khuyến công",
    "industrial promotion center": "Trung tâm Khuyến công",
    "industrial promotion centre": "Trung tâm Khuyến công",
    "national programme": "chương trình khuyến công quốc gia",
    "national program": "chương trình khuyến công quốc gia",
    "local programme": "chương trình khuyến công địa phương",
    "local program": "chương trình khuyến công địa phương",
    "programme": "chương trình",
    "program": "chương trình",
    "vocational training": "đào tạo nghề",
    "job training": "đào tạo nghề",
    "training": "đào tạo",
    "skill": "tay nghề",
    "worker": "lao động",
    "labour": "lao động",
    "labor": "lao động",
    "employee": "lao động",
    "craft village": "làng nghề",
    "handicraft": "tiểu thủ công nghiệp",
    "trade fair": "hội chợ triển lãm",
    "fair": "hội chợ triển lãm",
    "exhibition": "hội chợ triển lãm",
    "expo": "hội chợ triển lãm",
    "abroad": "nước ngoài",
    "overseas": "nước ngoài",
    "foreign": "nước ngoài",
    "trade promotion": "xúc tiến thương mại",
    "e-commerce": "thương mại điện tử",
    "ecommerce": "thương mại điện tử",
    "machinery": "máy móc thiết bị",
    "machine": "máy móc thiết bị",
    "equipment": "máy móc thiết bị",
    "advanced technology": "công nghệ tiên tiến",
    "technology transfer": "chuyển giao công nghệ",
    "technology": "công nghệ",
    "demonstration model": "mô hình trình diễn kỹ thuật",
    "demonstration": "mô hình trình diễn kỹ thuật",
    "pilot model": "mô hình thí điểm",
    "cleaner production": "sản xuất sạch hơn",
    # Legal texts write "thương hiệu" where guides write "nhãn hiệu" (ND 45/2012 Art. 4).
    "trademark": "nhãn hiệu thương hiệu",
    "brand": "nhãn hiệu thương hiệu",
    "branding": "nhãn hiệu thương hiệu",
    "showroom": "phòng trưng bày giới thiệu sản phẩm",
    "display room": "phòng trưng bày giới thiệu sản phẩm",
    "packaging": "bao bì",
    "product design": "thiết kế mẫu mã",
    "design": "thiết kế mẫu mã",
    "typical product": "sản phẩm công nghiệp nông thôn tiêu biểu",
    "typical rural industrial product": "sản phẩm công nghiệp nông thôn tiêu biểu",
    "outstanding rural industrial product": "sản phẩm công nghiệp nông thôn tiêu biểu",
    "outstanding product": "sản phẩm công nghiệp nông thôn tiêu biểu",
    "featured product": "sản phẩm công nghiệp nông thôn tiêu biểu",
    "product": "sản phẩm",
    "rural industrial establishment": "cơ sở công nghiệp nông thôn",
    "rural industry": "công nghiệp nông thôn",
    "rural": "nông thôn",
    "establishment": "cơ sở",
    "facility": "cơ sở",
    "factory": "cơ sở sản xuất",
    "household business": "hộ kinh doanh",
    "cooperative": "hợp tác xã",
    "sme": "doanh nghiệp nhỏ và vừa",
    "small and medium enterprise": "doanh nghiệp nhỏ và vừa",
    "small business": "doanh nghiệp nhỏ và vừa",
    "enterprise": "doanh nghiệp",
    "company": "doanh nghiệp",
    "business": "doanh nghiệp",
    "startup": "khởi nghiệp",
    "industrial cluster": "cụm công nghiệp",
    "industrial park": "cụm công nghiệp",
    "cluster": "cụm công nghiệp",
    "decree": "nghị định",
    "circular": "thông tư",
    "decision": "quyết định",
    "directive": "chỉ thị",
    "legal document": "văn bản pháp lý",
    "regulation": "quy định",
    "amend": "sửa đổi",
    "amendment": "sửa đổi",
    "ministry of industry and trade": "Bộ Công Thương",
    "moit": "Bộ Công Thương",
    "department of industry and trade": "Sở Công Thương",
    "province": "tỉnh",
    "provincial": "tỉnh",
    "locality": "địa phương",
    "local": "địa phương",
    "national": "quốc gia",
    "ward": "phường",
    "commune": "xã",
    "district": "huyện",
    "support": "hỗ trợ",
    "assistance": "hỗ trợ",
    "subsidy": "hỗ trợ",
    "support level": "mức hỗ trợ",
    "how much": "mức hỗ trợ tối đa",
    "maximum": "tối đa",
    "funding": "kinh phí",
    "budget": "kinh phí ngân sách",
    "fund": "kinh phí",
    "apply": "đăng ký hồ sơ",
    "application": "đăng ký hồ sơ",
    "register": "đăng ký",
    "registration": "đăng ký",
    "dossier": "hồ sơ",
    "paperwork": "hồ sơ",
    "procedure": "thủ tục",
    "deadline": "thời hạn",
    "eligible": "đối tượng điều kiện",
    "eligibility": "đối tượng điều kiện",
    "condition": "điều kiện",
    "requirement": "điều kiện",
    "digital transformation": "chuyển đổi số",
    "study tour": "khảo sát học tập",
    "study trip": "khảo sát học tập",
    "conference": "hội nghị",
    "seminar": "hội thảo",
    "consulting": "tư vấn",
    "consultancy": "tư vấn",
    "pollution": "ô nhiễm môi trường",
    "environment": "môi trường",
    "energy saving": "tiết kiệm năng lượng",
    "achieve": "kết quả đạt được",
    "achievement": "kết quả đạt được",
    "result": "kết quả",
    "goal": "mục tiêu",
    "objective": "mục tiêu",
    "target": "mục tiêu",
    "difficulty": "khó khăn",
    "challenge": "khó khăn",
    "mining": "khai thác khoáng sản",
    "processing": "chế biến",
    "industry": "công nghiệp",
    "sector": "ngành nghề",
    "line of business": "ngành nghề",
    "industrial": "công nghiệp",
    "communication": "thông tin tuyên truyền",
    "capacity building": "nâng cao năng lực",
    "contest": "bình chọn",
    "certificate": "chứng nhận",
    # Vocabulary of the decrees and circulars themselves.
    "people's committee": "Ủy ban nhân dân",
    "peoples committee": "Ủy ban nhân dân",
    "people committee": "Ủy ban nhân dân",
    "report": "báo cáo",
    "reporting": "báo cáo",
    "how often": "định kỳ",
    "periodic": "định kỳ",
    "periodically": "định kỳ",
    "quarterly": "hàng quý",
    "annual": "hàng năm",
    "annually": "hàng năm",
    "product group": "nhóm sản phẩm",
    "category": "nhóm",
    "council": "Hội đồng",
    "jury": "Ban Giám khảo",
    "effective": "hiệu lực",
    "in force": "hiệu lực",
    "replace": "thay thế",
    "advance payment": "tạm ứng",
    "collaborator": "cộng tác viên",
    # Terms of the decree and circulars' articles (organisation, procedure, benefits), so an
    # English question reaches the article that states them.
    "joint circular": "thông tư liên tịch",
    "public service unit": "đơn vị sự nghiệp công lập",
    "legal entity": "tư cách pháp nhân",
    "seal": "con dấu",
    "director": "Giám đốc",
    "deputy director": "Phó Giám đốc",
    "staff": "biên chế",
    "benefit": "quyền lợi",
    "recognised": "được công nhận",
    "recognized": "được công nhận",
    "recognition": "công nhận",
    "reward": "thưởng",
    "cash": "tiền mặt",
    "logo": "Logo",
    "member": "thành viên",
    "complaint": "khiếu nại",
    "score": "điểm",
    "photo": "ảnh",
    "tender": "đấu thầu",
    "bidding": "đấu thầu",
    "settlement": "quyết toán",
    "contract": "hợp đồng",
    "priority": "ưu tiên",
    "mountainous": "vùng cao",
    "island": "hải đảo",
    "border": "biên giới",
    "ethnic minority": "đồng bào dân tộc thiểu số",
    "violation": "vi phạm",
    "penalty": "xử phạt",
    "purpose": "mục đích",
    "criteria": "tiêu chí",
    "criterion": "tiêu chí",
    "responsibility": "trách nhiệm",
    "ministry": "Bộ",
    "department": "Sở",
    "centre": "Trung tâm",
    "center": "Trung tâm",
}

#: Keys common outside this domain: alone they do not make an English question answerable.
GENERIC: frozenset[str] = frozenset(
    {
        "programme", "program", "training", "skill", "worker", "labour", "labor", "employee",
        "fair", "foreign", "machine", "equipment", "technology", "design", "product",
        "rural", "establishment", "facility", "factory", "enterprise", "company", "business",
        "decision", "regulation", "province", "provincial", "locality", "local", "national",
        "ward", "district", "commune", "support", "assistance", "how much", "maximum", "fund",
        "budget", "apply", "application", "register", "registration", "procedure",
        "deadline", "condition", "requirement", "conference", "seminar", "environment",
        "achieve", "achievement", "result", "goal", "objective", "target", "difficulty",
        "challenge", "processing", "industry", "industrial", "communication", "certificate",
        "contest", "abroad", "overseas", "startup", "consulting", "consultancy", "amend",
        "amendment", "funding", "cluster", "report", "reporting", "how often", "periodic",
        "periodically", "quarterly", "annual", "annually", "category", "council", "effective",
        "in force", "replace", "seal", "director", "deputy director",
        "staff", "benefit", "recognised", "recognized", "recognition", "reward",
        "cash", "logo", "member", "complaint", "score", "photo",
        "tender", "bidding", "settlement", "contract", "priority",
        "mountainous", "island", "border", "violation", "penalty", "purpose", "criteria",
        "criterion", "responsibility", "ministry", "department", "centre", "center",
        "legal entity", "ethnic minority",
    }
)  # fmt: skip

#: English words that carry no topic; they are neither matched nor counted as uncovered.
ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    """
    a an the of for from with and or to in on at by as into about is are was were be been
    being do does did doing have has had can could would should will shall may might must
    i me my we our you your he she it its they them their this that these those there here
    what which who whom whose when where why how much many any some all every each more
    most please tell give get got let know need want there's what's i'm i'd it's us
    s t not no yes if so than then also just only very
    """.split()
)

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_KEY_WORDS = 5


def _stem(word: str) -> str:
    # Enough for glossary keys: "fairs" -> "fair", "businesses" -> "business".
    if len(word) > 4 and word.endswith("es") and word[:-2].endswith(("ss", "sh", "ch", "x")):
        return word[:-2]
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.casefold())]


_KEYS: dict[tuple[str, ...], str] = {tuple(_words(k)): k for k in GLOSSARY}


@dataclass(frozen=True, slots=True)
class EnglishRendering:
    """The Vietnamese terms found for an English question."""

    #: Vietnamese terms, one per matched glossary key, in question order.
    terms: tuple[str, ...]
    #: Glossary keys that matched.
    keys: tuple[str, ...]
    #: Share of the question's English content words covered by a key.
    covered: float

    @property
    def text(self) -> str:
        """The terms joined into one Vietnamese search string."""
        return " ".join(self.terms)

    @property
    def on_topic(self) -> bool:
        """True when at least one matched key is specific to this domain."""
        return any(key not in GENERIC for key in self.keys)


def render_english(question: str) -> EnglishRendering | None:
    """Finds the domain terms of an English question and gives their Vietnamese terms.

    Matching is greedy, longest key first, on whole words ("trade fairs" -> "trade fair").
    Questions with Vietnamese diacritics are left alone.

    Args:
        question: The user's question.

    Returns:
        The rendering, or None when the question has diacritics or matches no key.
    """
    if has_diacritics(question):
        return None
    words = _words(question)
    terms: list[str] = []
    keys: list[str] = []
    content = 0
    covered = 0
    i = 0
    while i < len(words):
        for size in range(min(_MAX_KEY_WORDS, len(words) - i), 0, -1):
            key = _KEYS.get(tuple(words[i : i + size]))
            if key is not None:
                if GLOSSARY[key] not in terms:
                    terms.append(GLOSSARY[key])
                keys.append(key)
                span = [w for w in words[i : i + size] if w not in ENGLISH_STOPWORDS]
                content += len(span)
                covered += len(span)
                i += size
                break
        else:
            if words[i] not in ENGLISH_STOPWORDS and not words[i].isdigit():
                content += 1
            i += 1
    if not keys:
        return None
    return EnglishRendering(tuple(terms), tuple(keys), covered / content if content else 1.0)


def english_terms(question: str) -> EnglishRendering | None:
    """The rendering of an English question about this domain, or None.

    Unlike `render_english`, a question whose only matches are generic words ("How much
    is a laptop?") gets None.

    Args:
        question: The user's question.

    Returns:
        The rendering when at least one domain-specific key matched.
    """
    rendering = render_english(question)
    return rendering if rendering is not None and rendering.on_topic else None


# Question words -> how documents phrase the same idea. Documents answer "khó khăn gì?"
# with "còn hạn chế", "còn thiếu"; "mục tiêu" with "nhằm", "mục đích". Keys are compared
# without diacritics; the phrasings keep them, so BM25 and sentence matching see real words.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "kho khan": ("hạn chế", "thiếu", "vướng mắc", "tồn tại", "bất cập", "chưa theo kịp"),
    "muc tieu": ("nhằm", "mục đích", "định hướng", "góp phần"),
    "ket qua": ("đạt được", "thành tựu"),
    "nguon von": ("kinh phí", "ngân sách"),
    "ho so": ("giấy tờ", "thành phần"),
}


def synonyms_for(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """The synonym entries whose key occurs in the question.

    Args:
        question: The user's question (with or without diacritics).

    Returns:
        (key, phrasings) pairs; the key is diacritic-free, the phrasings are Vietnamese.
    """
    folded = f" {' '.join(_words(fold_diacritics(question)))} "
    return [(key, alts) for key, alts in SYNONYMS.items() if f" {key} " in folded]


def synonym_text(question: str) -> str:
    """Document phrasings of the question's intent words, for the BM25 query.

    Args:
        question: The user's question (any diacritics).

    Returns:
        The phrasings joined by spaces; empty when none applies.
    """
    return " ".join(alt for _, alts in synonyms_for(question) for alt in alts)
