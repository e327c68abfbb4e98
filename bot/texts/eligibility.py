"""Texts of the eligibility check /kiemtra (bot/handlers/eligibility.py).

Templates take `str.format` values, HTML-escaped by the caller.
"""

ELIG_STEP_TYPE = (
    "🔎 <b>Kiểm tra điều kiện hỗ trợ — bước 1/5</b>\nCơ sở của bạn thuộc loại hình nào?"
)
ELIG_STEP_AREA = (
    "🔎 <b>Bước 2/5</b>\nCơ sở sản xuất đặt ở đâu?\n"
    "<i>Từ 01/07/2025 không còn cấp huyện; hãy chọn theo địa bàn trước đây nếu bạn biết.</i>"
)
ELIG_STEP_SECTOR = "🔎 <b>Bước 3/5</b>\nCơ sở sản xuất trong ngành nghề nào?"
ELIG_STEP_SUPPORT = (
    "🔎 <b>Bước 4/5</b>\nBạn cần hỗ trợ nội dung nào? Chọn một hoặc nhiều mục (✅), "
    "rồi bấm «Xong». Không chọn mục nào thì bot sẽ liệt kê tất cả."
)
ELIG_STEP_PROVINCE = "🔎 <b>Bước 5/5</b>\nCơ sở ở tỉnh/thành phố nào?"
ELIG_BTN_UNKNOWN = "Không rõ"
ELIG_BTN_BACK = "⬅️ Quay lại"
ELIG_BTN_CANCEL = "Hủy"
ELIG_BTN_DONE = "Xong"
ELIG_BTN_REGISTER = "📝 Đăng ký tư vấn"
ELIG_BTN_RESTART = "🔎 Kiểm tra lại"
ELIG_CANCELLED = "Đã hủy kiểm tra điều kiện. Gõ /kiemtra khi bạn muốn kiểm tra lại."
ELIG_STALE = "Phiên kiểm tra này đã kết thúc."
ELIG_TIMED_OUT = (
    "⏱ Phiên kiểm tra điều kiện đã hết hạn vì lâu không có lựa chọn. Gõ /kiemtra để làm lại."
)
ELIG_STALE_MESSAGE = "Phiên kiểm tra điều kiện này đã kết thúc. Gõ /kiemtra để kiểm tra lại."
ELIG_OLD_BUTTON = "Vui lòng dùng các nút ở tin nhắn kiểm tra mới nhất."
ELIG_UNAVAILABLE = (
    "Xin lỗi, chức năng kiểm tra điều kiện tạm thời chưa sẵn sàng. Bạn có thể gõ câu hỏi "
    "hoặc liên hệ Sở Công Thương / Trung tâm Khuyến công tỉnh."
)
ELIG_RESULT_TITLE = "🔎 <b>Kết quả kiểm tra sơ bộ</b>"
ELIG_VERDICT_LIKELY = "✅ Cơ sở của bạn <b>có khả năng đủ điều kiện</b> nhận hỗ trợ khuyến công."
ELIG_VERDICT_NOT = (
    "❌ Theo thông tin bạn chọn, cơ sở <b>chưa đủ điều kiện</b> nhận hỗ trợ khuyến công:"
)
ELIG_VERDICT_VERIFY = "❓ Cơ sở của bạn <b>cần xác minh thêm</b> trước khi kết luận:"
ELIG_ANSWERS = "<b>Thông tin bạn chọn:</b> {answers}"
ELIG_ITEMS_TITLE = "<b>Nội dung hỗ trợ phù hợp:</b>"
ELIG_ITEM_LEVEL = "Mức hỗ trợ: {level}"
ELIG_ITEM_CAP = "Tối đa: {cap}"
ELIG_ITEM_BASIS = "Căn cứ: {basis}"
ELIG_ITEM_DOCS = "Hồ sơ cần chuẩn bị: {documents}"
ELIG_ITEM_NOTE = "Lưu ý: {note}"
ELIG_DOCS_AS_ABOVE = "như mục trên"
ELIG_ITEM_UNCONFIRMED = "(thông tin chưa được xác nhận đầy đủ)"
ELIG_ITEMS_MORE = "… và {count} nội dung khác. Gõ câu hỏi để xem chi tiết."
ELIG_NEXT_STEP = "👉 <b>Bước tiếp theo:</b> {text}"
ELIG_NOTICE = "⚖️ <i>{text}</i>"
ELIG_BASIS_STATUS = "<b>Hiệu lực của căn cứ pháp lý:</b>"
ELIG_REGISTER_HINT = "Bấm «Đăng ký tư vấn» để cán bộ khuyến công liên hệ với bạn."
