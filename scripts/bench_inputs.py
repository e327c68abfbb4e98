"""What the benchmark asks and indexes: sample questions and generated Vietnamese-like text."""

from __future__ import annotations

import numpy as np

#: Questions of the kind users ask; cycled to reach `n_queries`.
SAMPLE_QUESTIONS = (
    "Nghị định nào quy định về khuyến công?",
    "Cơ sở công nghiệp nông thôn được hỗ trợ những gì?",
    "Mức hỗ trợ máy móc thiết bị tiên tiến tối đa là bao nhiêu?",
    "Chương trình khuyến công quốc gia giai đoạn 2026-2030 do ai phê duyệt?",
    "ho tro xay dung mo hinh trinh dien ky thuat",
    "Thủ tục đăng ký đề án khuyến công địa phương như thế nào?",
    "Hộ kinh doanh có được hỗ trợ tham gia hội chợ không?",
    "qd 2665 quảng nam",
    "Khuyến công có hỗ trợ chuyển đổi số không?",
    "Bình chọn sản phẩm công nghiệp nông thôn tiêu biểu cấp khu vực",
    "Kinh phí khuyến công địa phương lấy từ đâu?",
    "Tôi muốn được hỗ trợ đào tạo nghề cho lao động ở xưởng mây tre đan",
)

# Syllables for the synthetic corpus: domain words plus everyday Vietnamese, so BM25 posting
# lists have a realistic skew (a few very frequent syllables, a long tail).
_SYLLABLES = (
    "khuyến công hỗ trợ cơ sở sản xuất công nghiệp nông thôn chương trình đề án kinh phí "
    "ngân sách địa phương tỉnh huyện xã doanh nghiệp hợp tác hộ kinh doanh máy móc thiết bị "
    "tiên tiến chuyển giao công nghệ mô hình trình diễn kỹ thuật đào tạo nghề truyền nghề "
    "hội chợ triển lãm thương mại bình chọn sản phẩm tiêu biểu cấp khu vực quốc gia thủ "
    "công mỹ nghệ chế biến nông lâm thủy sản thực phẩm vật liệu xây dựng môi trường sạch "
    "hơn tiết kiệm năng lượng chuyển đổi số thương hiệu bao bì mẫu mã tư vấn thông tin "
    "truyền thông cán bộ quản lý năng lực liên kết cụm hạ tầng quy hoạch giai đoạn năm "
    "mục tiêu nhiệm vụ giải pháp thực hiện kết quả đạt được triệu đồng tối đa không quá "
    "phần trăm chi phí quyết định nghị định thông tư bộ công thương ủy ban nhân dân sở "
    "trung tâm phát triển người lao động việc làm thu nhập gia đình làng nghề mây tre đan "
    "gốm sứ dệt may gỗ cơ khí điện tử phụ tùng linh kiện xuất khẩu tiêu dùng nội địa thị "
    "trường vốn vay lãi suất hồ sơ thủ tục đăng ký xét duyệt nghiệm thu thanh toán báo cáo"
).split()


def synthetic_texts(n: int, *, seed: int = 0, words: tuple[int, int] = (40, 90)) -> list[str]:
    """Generates `n` Vietnamese-like chunk texts with a Zipf-like syllable distribution."""
    rng = np.random.default_rng(seed)
    vocab = np.array(_SYLLABLES)
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    weights = 1.0 / ranks
    weights /= weights.sum()
    lengths = rng.integers(words[0], words[1], size=n)
    picks = rng.choice(len(vocab), size=int(lengths.sum()), p=weights)
    texts: list[str] = []
    start = 0
    for length in lengths:
        chunk = vocab[picks[start : start + length]]
        start += length
        texts.append(" ".join(chunk.tolist()) + f" năm {2000 + int(length) % 26}.")
    return texts


def queries_of(n: int) -> list[str]:
    return [SAMPLE_QUESTIONS[i % len(SAMPLE_QUESTIONS)] for i in range(n)]
