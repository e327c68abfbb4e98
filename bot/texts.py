"""Every text the bot shows to users, in one place, so wording changes never touch handlers.

Texts that take values are `str.format` templates; values are HTML-escaped by the caller.
Each feature keeps its texts in its own section below; edit inside your section only.
"""

from __future__ import annotations

from index.header_meta import TYPE_NAMES

# === common: start, help, menu, free questions, errors (bot/handlers/start.py, ask.py, ...) ===
WELCOME = (
    "Xin chào <b>{name}</b>! Tôi là <b>Trợ lý Khuyến công</b>.\n\n"
    "Tôi giúp cơ sở công nghiệp nông thôn tìm hiểu chính sách khuyến công:\n"
    "• Trả lời câu hỏi dựa trên văn bản chính thức (có trích nguồn)\n"
    "• Kiểm tra sơ bộ điều kiện được hỗ trợ\n"
    "• Đăng ký để cán bộ khuyến công liên hệ tư vấn\n\n"
    "Bạn có thể gõ câu hỏi ngay, hoặc chọn một mục bên dưới."
)
MENU_ASK = "❓ Hỏi đáp"
MENU_CHECK = "✅ Kiểm tra điều kiện hỗ trợ"
MENU_REGISTER = "📝 Đăng ký tư vấn"
MENU_HELP = "ℹ️ Hướng dẫn"
ASK_PROMPT = (
    "Mời bạn gõ câu hỏi về chính sách khuyến công, ví dụ:\n"
    "<i>Cơ sở công nghiệp nông thôn được hỗ trợ những nội dung gì?</i>"
)
HELP = (
    "<b>Hướng dẫn sử dụng</b>\n\n"
    "<b>Các lệnh</b>\n"
    "/start — Màn hình chính\n"
    "/kiemtra — Kiểm tra sơ bộ điều kiện được hỗ trợ\n"
    "/dangky — Đăng ký để cán bộ khuyến công liên hệ tư vấn\n"
    "/huy — Hủy thao tác đang làm\n"
    "/xoadulieu — Xóa dữ liệu cá nhân của bạn\n"
    "/trogiup — Xem hướng dẫn này\n\n"
    "<b>Ví dụ câu hỏi</b>\n"
    "• Đối tượng nào được hưởng chính sách khuyến công?\n"
    "• Mức hỗ trợ xây dựng mô hình trình diễn kỹ thuật là bao nhiêu?\n"
    "• Hồ sơ đề nghị hỗ trợ gồm những gì?\n"
    "• Còn ở Quảng Nam thì sao? (hỏi tiếp câu trước)\n\n"
    "<b>Lưu ý</b>: câu trả lời chỉ trích từ văn bản đã công bố, mang tính tham khảo. "
    "Thông tin bạn đăng ký chỉ dùng để cán bộ khuyến công liên hệ tư vấn; "
    "bạn có thể xóa bất cứ lúc nào bằng lệnh /xoadulieu."
)
COMMAND_START = "Màn hình chính"
COMMAND_CHECK = "Kiểm tra điều kiện hỗ trợ"
COMMAND_REGISTER = "Đăng ký tư vấn"
COMMAND_CANCEL = "Hủy thao tác đang làm"
COMMAND_HELP = "Hướng dẫn sử dụng"
COMMAND_DELETE_DATA = "Xóa dữ liệu cá nhân"

SOURCES_HEADER = "<b>Nguồn:</b>"
MORE_SOURCES_HEADER = "<b>Các đoạn liên quan khác ({start}–{end}/{total}):</b>"
NO_MORE_SOURCES = "Không còn nguồn nào khác cho câu hỏi này."
MORE_SOURCES_EXPIRED = "Kết quả này đã cũ, vui lòng hỏi lại."
BUTTON_MORE_SOURCES = "📚 Xem thêm nguồn"
BUTTON_FEEDBACK_UP = "👍"
BUTTON_FEEDBACK_DOWN = "👎"
BUTTON_REGISTER = "📝 Đăng ký tư vấn"
FEEDBACK_THANKS = "Cảm ơn bạn đã góp ý!"
FEEDBACK_NOT_SAVED = "Cảm ơn bạn! Góp ý chưa ghi nhận được lúc này, bạn thử lại sau nhé."
FEEDBACK_ALREADY = "Bạn đã góp ý cho câu trả lời này rồi. Cảm ơn bạn!"
NOT_CONFIDENT = (
    "Xin lỗi, tôi chưa tìm thấy thông tin đủ chắc chắn trong các văn bản hiện có để trả lời "
    "câu hỏi này, nên không muốn đoán.\n\n"
    "Bạn có thể:\n"
    "• Hỏi lại cụ thể hơn (nêu rõ tỉnh, loại cơ sở, nội dung cần hỗ trợ)\n"
    "• Đăng ký để cán bộ khuyến công liên hệ tư vấn trực tiếp\n"
    "• Liên hệ Trung tâm Khuyến công (Sở Công Thương) tỉnh, thành phố nơi bạn sản xuất"
)
#: A question outside the documents: says what the assistant covers and offers registration
#: (the button under it). Telegram and the console show exactly this text.
REFUSED_OUT_OF_SCOPE = (
    "Xin lỗi, câu hỏi này nằm ngoài phạm vi các văn bản khuyến công mà tôi có, nên tôi "
    "không trả lời để tránh thông tin sai.\n\n"
    "Tôi có thể giúp bạn về:\n"
    "• Đối tượng, ngành nghề và địa bàn được hỗ trợ khuyến công\n"
    "• Nội dung và mức hỗ trợ khuyến công\n"
    "• Thủ tục, hồ sơ đề nghị hỗ trợ và nơi liên hệ\n"
    "• Văn bản pháp lý, chương trình khuyến công quốc gia và địa phương\n\n"
    "Nếu cần tư vấn riêng, bạn có thể đăng ký để cán bộ khuyến công liên hệ (nút bên dưới "
    "hoặc lệnh /dangky)."
)
EMPTY_QUESTION = "Bạn vui lòng gõ câu hỏi bằng chữ nhé."
QUESTION_EMPTY = (
    "Bạn vui lòng nhập câu hỏi bằng chữ, ví dụ: "
    "“Cơ sở sản xuất ở nông thôn được hỗ trợ khuyến công những gì?”"
)
QUESTION_TOO_LONG_REFUSED = (
    "Câu hỏi của bạn quá dài. Bạn vui lòng gửi câu hỏi ngắn gọn hơn (một hoặc hai câu) để "
    "tôi tra cứu chính xác."
)
#: Replies to a message that asks for an action rather than asking a question.
ROUTED = {
    "register": "Bạn muốn được cán bộ khuyến công tư vấn — mời bạn đăng ký vài thông tin.",
    "talk_to_staff": (
        "Để cán bộ khuyến công liên hệ trực tiếp với bạn, mời bạn để lại vài thông tin."
    ),
    "check_eligibility": "Mời bạn kiểm tra sơ bộ điều kiện được hỗ trợ khuyến công.",
    "delete_data": "Bạn muốn xóa dữ liệu cá nhân đã lưu.",
    "greeting": (
        "Rất vui được hỗ trợ bạn! Bạn cứ gõ câu hỏi về chính sách khuyến công, "
        "hoặc gõ /trogiup để xem hướng dẫn."
    ),
}
#: What the console says instead of starting a Telegram flow it does not have.
CONSOLE_ROUTED = {
    "register": "Trên Telegram, gõ /dangky để đăng ký tư vấn.",
    "talk_to_staff": "Trên Telegram, gõ /dangky để cán bộ khuyến công liên hệ với bạn.",
    "check_eligibility": "Trên Telegram, gõ /kiemtra để kiểm tra điều kiện.",
    "delete_data": "Chế độ console không lưu dữ liệu cá nhân; trên Telegram, gõ /xoadulieu.",
}
FOLLOWUP_UNDERSTOOD = "<i>Tôi hiểu câu hỏi của bạn là: {question}</i>"
QUESTION_TOO_LONG = (
    "Câu hỏi hơi dài ({length} ký tự). Tôi chỉ đọc {limit} ký tự đầu; "
    "bạn có thể hỏi ngắn gọn hơn để có kết quả chính xác hơn."
)
ENGINE_UNAVAILABLE = (
    "Xin lỗi, hệ thống tra cứu đang được cập nhật. Bạn vui lòng thử lại sau ít phút."
)

UNSUPPORTED_MEDIA = (
    "Xin lỗi, tôi chỉ đọc được tin nhắn chữ. Bạn vui lòng gõ câu hỏi, "
    "hoặc chọn /start để xem các chức năng."
)
UNSUPPORTED_LOCATION = (
    "Cảm ơn bạn! Tôi chưa dùng được vị trí bản đồ. Bạn vui lòng gõ tên tỉnh/thành phố "
    "trong câu hỏi nhé."
)
UNSUPPORTED_CONTACT = (
    "Cảm ơn bạn! Nếu muốn cán bộ khuyến công liên hệ, bạn vui lòng đăng ký bằng lệnh /dangky."
)
UNSUPPORTED_DOCUMENT = "Xin lỗi, tôi không nhận tệp đính kèm. Bạn vui lòng gõ câu hỏi bằng chữ nhé."
EDITED_MESSAGE = (
    "Tôi không xử lý tin nhắn đã sửa. Bạn vui lòng gửi lại câu hỏi dưới dạng tin nhắn mới."
)
UNKNOWN_COMMAND = "Tôi chưa hiểu lệnh này. Gõ /trogiup để xem các lệnh có thể dùng."
STALE_BUTTON = "Không tìm thấy nội dung của nút này (có thể đã hết hạn). Bạn gõ /start nhé."
ERROR_REPLY = (
    "Xin lỗi, đã có lỗi xảy ra khi xử lý yêu cầu của bạn. Bạn vui lòng thử lại sau ít phút. "
    "Nếu lỗi lặp lại, hãy gõ /start."
)
ERROR_STAFF_NOTICE = "⚠️ Lỗi bot (mã <code>{error_id}</code>): {error_type}. Xem log máy chủ."

# Answers and their sources (bot/answer_views.py renders these for Telegram, the console
# and the evaluation alike).
#: Document type -> how a citation names it ("Nghị định 45/2012/NĐ-CP"). The names are legal
#: vocabulary the core also needs (titles read from a document's header), so they live there.
DOC_TYPE_NAMES: dict[str, str] = dict(TYPE_NAMES)
#: How our own summaries are cited: they are not the law, whatever number they discuss.
CITATION_GUIDE = "Tài liệu hướng dẫn của Trung tâm: {title}"
CITATION_ARTICLE_SEP = " — "
NOTICE_SUPERSEDED = "⚠️ {doc} đã hết hiệu lực{detail}."
NOTICE_SUPERSEDED_BY = " (thay thế bởi {numbers})"
NOTICE_EXPIRED_ON = " từ ngày {date}"
NOTICE_AMENDED = (
    "ℹ️ {doc} đã được sửa đổi, bổ sung bởi {numbers}; nội dung trích dẫn là bản gốc, "
    "có thể đã thay đổi."
)
NOTICE_AMENDED_UNNAMED = (
    "ℹ️ {doc} đã được sửa đổi, bổ sung; nội dung trích dẫn là bản gốc, có thể đã thay đổi."
)
THIS_DOCUMENT = "Văn bản này"
#: Document status -> how the source lists (/sources, `khuyencong sources`) name it.
DOC_STATUS_LABELS = {
    "in_force": "còn hiệu lực",
    "amended": "còn hiệu lực, đã được sửa đổi, bổ sung",
    "superseded": "hết hiệu lực (đã bị thay thế)",
    "expired": "hết hiệu lực",
    "unknown": "chưa rõ hiệu lực",
    "not_applicable": "tin tức, không phải văn bản quy phạm",
}
DOC_RELATION_AMENDED_BY = "sửa đổi bởi {numbers}"
DOC_RELATION_SUPERSEDED_BY = "thay thế bởi {numbers}"
DOC_RELATION_EXPIRED_ON = "từ ngày {date}"
DOC_RELATION_REPLACES = "thay thế {numbers}"
DOC_RELATION_BASED_ON = "tóm tắt từ {numbers}"
DOC_RELATION_EFFECTIVE = "hiệu lực từ {date}"
DOC_LINE_NUMBER = "số {number}"
DOC_LINE_ISSUED = "ngày {date}"
#: Labels of the metadata found in an uploaded file (upload flow, `khuyencong add`).
META_FIELD_LABELS = {
    "title": "Tiêu đề",
    "doc_type": "Loại văn bản",
    "number": "Số hiệu",
    "issuer": "Cơ quan ban hành",
    "issued": "Ngày ban hành",
    "effective": "Hiệu lực từ",
    "province": "Tỉnh",
    "status": "Trạng thái",
}
ANSWER_UNKNOWN = (
    "Tài liệu hiện có chưa nêu thông tin chính xác cho nội dung bạn hỏi, "
    "nên tôi chưa thể xác nhận."
)
#: The value asked is unknown, and the document it belongs to is only partly in the library.
ANSWER_UNKNOWN_PARTIAL = (
    "Văn bản liên quan trong thư viện của chúng tôi hiện chỉ có phần đầu, chưa đầy đủ "
    "nội dung, nên tôi chưa thể xác nhận con số bạn hỏi."
)
ANSWER_UNKNOWN_KNOWN = "Những gì tài liệu có nêu:"
ANSWER_UNKNOWN_ASK = (
    "Để biết chính xác, bạn vui lòng liên hệ Trung tâm Khuyến công (Sở Công Thương) tỉnh, "
    "thành phố nơi cơ sở sản xuất, hoặc đăng ký để cán bộ liên hệ tư vấn."
)

CONSOLE_WELCOME = (
    "Trợ lý Khuyến công — chế độ trò chuyện trên máy (console).\n"
    "Gõ câu hỏi rồi nhấn Enter. Gõ 'thoat' hoặc nhấn Ctrl-D để thoát."
)
CONSOLE_PROMPT = "Bạn hỏi: "
CONSOLE_BYE = "Tạm biệt!"
CONSOLE_BUILDING_INDEX = "Đang xây dựng chỉ mục tài liệu lần đầu, vui lòng chờ…"
CONSOLE_INDEX_PROGRESS = "  [{done}/{total}] {name}"
CONSOLE_INDEX_READY = "Đã sẵn sàng ({chunks} đoạn văn bản)."
CONSOLE_LOADING = "Đang tải mô hình và chỉ mục…"
CONSOLE_FOLLOWUP = "(Hiểu câu hỏi là: {question})"
CONSOLE_ERROR = "Xin lỗi, có lỗi khi trả lời: {error}"
NO_TOKEN = (
    "Chưa có TELEGRAM_BOT_TOKEN nên bot Telegram chưa chạy được.\n"
    "Cách cấu hình:\n"
    "  1. Nhắn @BotFather trên Telegram, gõ /newbot và làm theo hướng dẫn để lấy token.\n"
    "  2. Sao chép .env.example thành .env (cp .env.example .env).\n"
    "  3. Điền dòng TELEGRAM_BOT_TOKEN=<token của bạn> vào .env rồi chạy lại `make run`.\n"
    "Trong lúc chờ, bạn có thể trò chuyện thử với trợ lý ngay trên máy (console)."
)
# === end common ===

# === eligibility check /kiemtra (bot/handlers/eligibility.py) ===
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
# === end eligibility ===

# === lead registration /dangky and privacy /xoadulieu (bot/handlers/leads.py, privacy.py) ===
LEAD_ASK_NAME = (
    "📝 <b>Đăng ký tư vấn khuyến công</b>\nBot sẽ hỏi vài thông tin, từng bước một. "
    "Gõ /huy bất cứ lúc nào để dừng.\n\nHọ và tên của bạn là gì?"
)
LEAD_ASK_PHONE = (
    "Số điện thoại để cán bộ liên hệ? Bấm nút «📱 Chia sẻ số điện thoại» hoặc gõ số, "
    "ví dụ 0912 345 678."
)
LEAD_BTN_SHARE_PHONE = "📱 Chia sẻ số điện thoại"
LEAD_BAD_PHONE = (
    "Số điện thoại chưa đúng. Vui lòng nhập số Việt Nam, ví dụ <b>0912 345 678</b> "
    "hoặc +84 912 345 678."
)
LEAD_ASK_ESTABLISHMENT = "Tên cơ sở sản xuất / doanh nghiệp / hợp tác xã của bạn?"
LEAD_ASK_TYPE = "Cơ sở thuộc loại hình nào? Chọn bên dưới hoặc gõ câu trả lời."
LEAD_ASK_PROVINCE = "Cơ sở ở tỉnh/thành phố nào? Chọn bên dưới, hoặc bấm «Tỉnh khác» để gõ tên."
LEAD_BTN_OTHER_PROVINCE = "Tỉnh khác"
LEAD_ASK_PROVINCE_TEXT = "Vui lòng gõ tên tỉnh/thành phố."
LEAD_ASK_DISTRICT = (
    "Quận/huyện/xã (nếu có)? Gõ tên, hoặc bấm «Bỏ qua».\n"
    "<i>Cấp huyện đã bỏ từ 01/07/2025; bạn có thể ghi xã/phường hoặc địa danh cũ.</i>"
)
LEAD_BTN_SKIP = "Bỏ qua"
LEAD_ASK_SUPPORT = (
    "Bạn cần hỗ trợ nội dung nào? Chọn một hoặc nhiều mục (✅) rồi bấm «Xong», "
    "hoặc gõ nhu cầu của bạn."
)
LEAD_BTN_DONE = "Xong"
LEAD_BTN_UNKNOWN = "Chưa rõ"
LEAD_ASK_CONSENT = (
    "🔒 <b>Đồng ý xử lý dữ liệu cá nhân</b>\nThông tin bạn cung cấp (họ tên, số điện thoại, "
    "cơ sở, nhu cầu) được lưu lại và chỉ dùng để cán bộ khuyến công tư vấn cho bạn về hỗ trợ "
    "khuyến công, theo Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân. Bạn có thể xóa "
    "dữ liệu bất cứ lúc nào bằng lệnh /xoadulieu."
)
LEAD_BTN_CONSENT_YES = "✅ Tôi đồng ý"
LEAD_BTN_CONSENT_NO = "❌ Không đồng ý"
LEAD_NO_CONSENT = (
    "Bot tôn trọng lựa chọn của bạn: không có thông tin nào được lưu. "
    "Bạn vẫn có thể hỏi đáp bình thường; gõ /dangky nếu đổi ý."
)
LEAD_SUMMARY = (
    "📋 <b>Vui lòng kiểm tra lại thông tin</b>\n"
    "Họ tên: {full_name}\n"
    "Điện thoại: {phone}\n"
    "Cơ sở: {establishment_name}\n"
    "Loại hình: {establishment_type}\n"
    "Tỉnh/thành phố: {province}\n"
    "Quận/huyện/xã: {district}\n"
    "Nhu cầu hỗ trợ: {support_items}"
)
LEAD_EMPTY_VALUE = "—"
LEAD_BTN_CONFIRM = "✅ Xác nhận"
LEAD_BTN_EDIT = "✏️ Sửa"
LEAD_ASK_EDIT = "Bạn muốn sửa thông tin nào?"
LEAD_FIELD_NAME = "Họ tên"
LEAD_FIELD_PHONE = "Điện thoại"
LEAD_FIELD_ESTABLISHMENT = "Tên cơ sở"
LEAD_FIELD_TYPE = "Loại hình"
LEAD_FIELD_PROVINCE = "Tỉnh/thành phố"
LEAD_FIELD_DISTRICT = "Quận/huyện/xã"
LEAD_FIELD_SUPPORT = "Nhu cầu hỗ trợ"
LEAD_BTN_BACK_TO_SUMMARY = "⬅️ Quay lại"
LEAD_SAVED_NEW = (
    "✅ Đã lưu đăng ký của bạn (mã số {lead_id}). Cán bộ khuyến công sẽ liên hệ qua số "
    "{phone} trong thời gian sớm nhất."
)
LEAD_SAVED_UPDATE = (
    "✅ Đã cập nhật yêu cầu đang mở của bạn (mã số {lead_id}) với thông tin mới. Cán bộ "
    "khuyến công sẽ liên hệ qua số {phone}."
)
LEAD_NOT_SAVED = (
    "⚠️ Xin lỗi, hệ thống đang gặp sự cố nên đăng ký của bạn <b>chưa được lưu</b>. "
    "Vui lòng bấm «Xác nhận» để thử lại sau ít phút."
)
LEAD_ALREADY_SAVED = "Đã ghi nhận"
LEAD_STALE = "Phiên đăng ký này đã kết thúc. Gõ /dangky để đăng ký lại."
LEAD_CANCELLED = "Đã hủy đăng ký; không có thông tin nào được lưu. Gõ /dangky khi bạn cần."
LEAD_PAUSED = "Đã dừng đăng ký tư vấn (chưa lưu thông tin). Gõ /dangky để đăng ký lại sau."
LEAD_NOTHING_TO_CANCEL = "Hiện không có thao tác nào đang thực hiện."
LEAD_TIMED_OUT = (
    "⏱ Phiên đăng ký đã hết hạn vì lâu không có trả lời; thông tin chưa lưu đã được xóa. "
    "Gõ /dangky để đăng ký lại."
)
PROVINCE_NOW_PART_OF = "{old} (nay thuộc {new})"
LEAD_TEXT_ONLY = "Bot chỉ nhận chữ ở bước này, vui lòng gõ câu trả lời."
LEAD_USE_BUTTONS = "Vui lòng bấm một nút bên dưới."
LEAD_TOO_LONG = "Nội dung quá dài (tối đa {limit} ký tự). Vui lòng nhập ngắn gọn hơn."
LEAD_TOO_SHORT = "Nội dung quá ngắn. Vui lòng nhập lại."
LEAD_PREFILLED = "Bot đã điền sẵn từ kết quả kiểm tra: {fields}. Bạn có thể sửa ở bước cuối."

PRIVACY_EXPLAIN = (
    "🗑 <b>Xóa dữ liệu cá nhân</b>\nBot sẽ xóa toàn bộ dữ liệu gắn với tài khoản Telegram của "
    "bạn: các đăng ký tư vấn (họ tên, số điện thoại, cơ sở, nhu cầu), câu hỏi đã gửi, đánh giá "
    "câu trả lời và kết quả kiểm tra điều kiện đang lưu. Thao tác này không thể hoàn tác."
)
PRIVACY_BTN_CONFIRM = "🗑 Xóa dữ liệu của tôi"
PRIVACY_BTN_CANCEL = "Hủy"
PRIVACY_DONE = "✅ Đã xóa dữ liệu của bạn ({count} bản ghi trong cơ sở dữ liệu)."
PRIVACY_CANCELLED = "Đã hủy. Dữ liệu của bạn được giữ nguyên."
PRIVACY_FAILED = "⚠️ Xin lỗi, chưa xóa được dữ liệu do sự cố hệ thống. Vui lòng thử lại sau."
# === end registration ===

# === staff (bot/handlers/staff.py) ===
#: A registration, check or erasure asked for in a group: personal data stays private.
PRIVATE_ONLY = (
    "🔒 Để bảo vệ thông tin cá nhân, việc này chỉ thực hiện trong cuộc trò chuyện riêng với "
    "trợ lý. Bạn bấm nút dưới đây để mở."
)
PRIVATE_ONLY_SHORT = "Việc này chỉ thực hiện trong chat riêng với trợ lý."
PRIVATE_ONLY_BUTTON = "💬 Mở chat riêng với trợ lý"
#: A staff or admin tool outside the private and staff chats; says nothing more on purpose.
WRONG_CHAT = "Lệnh này không dùng được trong cuộc trò chuyện này."
STAFF_REFUSAL = "Xin lỗi, chức năng này chỉ dành cho cán bộ Trung tâm Khuyến công."
STAFF_NO_LEADS = "Chưa có hồ sơ nào phù hợp với điều kiện lọc."
STAFF_UNKNOWN_PROVINCE = "Chưa có hồ sơ nào ở tỉnh/thành «{province}»."
STAFF_NOT_A_PROVINCE = (
    "Chưa có hồ sơ nào ở «{province}», và đây không phải tên một tỉnh/thành. "
    "Vui lòng kiểm tra lại tên."
)
STAFF_PROVINCE_AMBIGUOUS = "«{province}» có thể là một trong các tỉnh/thành sau. Vui lòng chọn:"
STAFF_LEADS_HEADER = "<b>Hồ sơ đăng ký</b>{filters}\nHiển thị {first}–{last} trên tổng số {total}."
STAFF_FILTER_STATUS = " · trạng thái: <i>{status}</i>"
STAFF_FILTER_PROVINCE = " · tỉnh: <i>{province}</i>"
STAFF_BUTTON_PREV = "◀️ Trước"
STAFF_BUTTON_NEXT = "Sau ▶️"
STAFF_BUTTON_NOTE = "📝 Thêm ghi chú"
STAFF_BUTTON_BACK = "⬅️ Danh sách"
STAFF_BUTTON_OPEN = "Mở hồ sơ"
STAFF_LEAD_NOT_FOUND = "Không tìm thấy hồ sơ #{lead_id}."
STAFF_NOT_FOUND = "Không tìm thấy hồ sơ hoặc nội dung của nút này."
STAFF_CARD_TITLE = "<b>Hồ sơ #{lead_id}</b> · {status}"
STAFF_CARD_NAME = "👤 Họ tên: {value}"
STAFF_CARD_PHONE = "📞 Điện thoại: {value}"
STAFF_CARD_TELEGRAM = "💬 Telegram: {value}"
STAFF_CARD_ESTABLISHMENT = "🏭 Cơ sở: {value}"
STAFF_CARD_TYPE = "Loại hình: {value}"
STAFF_CARD_SECTOR = "Ngành nghề: {value}"
STAFF_CARD_PLACE = "📍 Địa bàn: {value}"
STAFF_CARD_SUPPORT = "🎯 Nội dung cần hỗ trợ: {value}"
STAFF_CARD_QUESTION = "❓ Câu hỏi: {value}"
STAFF_CARD_ELIGIBILITY = "✅ Kết quả kiểm tra điều kiện: {value}"
STAFF_CARD_ASSIGNED = "Người phụ trách: {value}"
STAFF_CARD_CREATED = "🕒 Ngày đăng ký: {value}"
STAFF_CARD_EVENTS = "<b>Lịch sử gần đây</b>"
STAFF_EVENT_STATUS = "• {when} · {actor}: {old} → {new}"
STAFF_EVENT_NOTE = "• {when} · {actor}: 📝 {note}"
STAFF_EVENT_OTHER = "• {when} · {actor}: {kind}"
STAFF_EVENT_CREATED = "tạo hồ sơ"
STAFF_EVENT_UPDATED = "cập nhật thông tin"
STAFF_VERDICT_LIKELY = "Có khả năng đủ điều kiện"
STAFF_VERDICT_NOT = "Chưa đủ điều kiện"
STAFF_VERDICT_VERIFY = "Cần xác minh thêm"
STAFF_STATUS_CHANGED = "Đã chuyển sang «{status}»."
STAFF_STATUS_UNCHANGED = "Hồ sơ đang ở trạng thái này."
STAFF_NOTE_ASK = "Vui lòng gửi nội dung ghi chú cho hồ sơ #{lead_id}.\nGõ /huy nếu muốn hủy."
STAFF_NOTE_EMPTY = "Ghi chú đang trống. Vui lòng gửi nội dung, hoặc gõ /huy để hủy."
STAFF_NOTE_TOO_LONG = "Ghi chú quá dài (tối đa {limit} ký tự). Vui lòng rút gọn."
STAFF_NOTE_SAVED = "Đã lưu ghi chú cho hồ sơ #{lead_id}."
STAFF_NOTE_CANCELLED = "Đã hủy thêm ghi chú."
STAFF_NOTE_TIMED_OUT = "⏱ Đã hủy thêm ghi chú vì lâu không nhận được nội dung."
STAFF_EXPORT_EMPTY = "Không có hồ sơ nào để xuất theo điều kiện đã chọn."
STAFF_EXPORT_BAD_ARGS = (
    "Chưa hiểu điều kiện xuất. Ví dụ: <code>/export new 2026-01-01 2026-12-31</code>\n"
    "(trạng thái và khoảng ngày YYYY-MM-DD đều không bắt buộc)."
)
STAFF_EXPORT_CAPTION = "Danh sách {count} hồ sơ ({fmt})."
STAFF_STATS_TITLE = "<b>Thống kê (câu hỏi trong {days} ngày gần đây)</b>"
STAFF_STATS_TOTAL = "Tổng số hồ sơ: <b>{total}</b> (mới trong kỳ: {period})"
STAFF_STATS_BY_STATUS = "<b>Hồ sơ theo trạng thái</b>"
STAFF_STATS_BY_PROVINCE = "<b>Hồ sơ theo tỉnh/thành</b>"
STAFF_STATS_BY_SUPPORT = "<b>Nội dung cần hỗ trợ</b>"
STAFF_STATS_PER_DAY = "<b>Số câu hỏi mỗi ngày</b>"
STAFF_STATS_CONFIDENT = "Tỉ lệ câu hỏi được trả lời chắc chắn: <b>{share}</b> ({total} câu hỏi)"
STAFF_STATS_UNANSWERED = "<b>Câu hỏi chưa trả lời được nhiều nhất</b>"
STAFF_STATS_NONE = "(chưa có)"
STAFF_NEW_LEAD = "🆕 <b>Hồ sơ mới #{lead_id}</b>"
STAFF_UPDATED_LEAD = "✏️ <b>Hồ sơ #{lead_id} được cập nhật</b>"
#: Many leads at once (a burst): one message instead of one per lead.
STAFF_DIGEST = "📥 <b>{count} hồ sơ mới</b> trong {minutes} phút qua{updated}\n{lead_ids}"
STAFF_DIGEST_UPDATED = " (trong đó {updated} hồ sơ được cập nhật)"
STAFF_DIGEST_LEAD_ID = "#{lead_id}"
STAFF_BUTTON_LIST = "📋 Mở danh sách hồ sơ"
STAFF_COMMAND_LEADS = "Danh sách hồ sơ đăng ký"
STAFF_COMMAND_EXPORT = "Xuất hồ sơ ra CSV và Excel"
STAFF_COMMAND_STATS = "Thống kê hồ sơ và câu hỏi"
# === end staff ===

# === admin (bot/handlers/admin.py) ===
ADMIN_REFUSAL = "Xin lỗi, chức năng này chỉ dành cho quản trị viên."
ADMIN_COMMAND_REINDEX = "Cập nhật chỉ mục tài liệu"
ADMIN_COMMAND_SOURCES = "Danh sách tài liệu đã nạp"
ADMIN_COMMAND_STATUS = "Đặt trạng thái hiệu lực của một văn bản"
ADMIN_COMMAND_REMOVE = "Gỡ một tài liệu đã tải lên"
ADMIN_UPLOAD_UNSUPPORTED = (
    "Xin lỗi, chưa hỗ trợ định dạng «{suffix}». Vui lòng gửi tệp PDF, DOCX, MD, TXT hoặc HTML."
)
ADMIN_UPLOAD_TOO_BIG = "Tệp quá lớn (tối đa {limit} MB). Vui lòng gửi tệp nhỏ hơn."
ADMIN_UPLOAD_DOWNLOAD_FAILED = "Không tải được tệp từ Telegram. Vui lòng gửi lại sau ít phút."
ADMIN_UPLOAD_ASK_META = (
    "Đã nhận tệp <b>{name}</b>. Thông tin đọc được từ tệp:\n{found}\n\n"
    "Bấm «Lấy từ tệp» nếu đúng. Để sửa, gửi từng dòng <code>trường: giá trị</code>, ví dụ:\n"
    "<code>số: 45/2012/NĐ-CP</code>\n<code>hiệu lực: 05/07/2012</code>\n"
    "(trường: tiêu đề, loại, số, cơ quan, ngày, hiệu lực), hoặc cả dòng "
    "<code>Tiêu đề | Số hiệu | Ngày (dd/mm/yyyy)</code>. Gõ /huy để hủy."
)
ADMIN_UPLOAD_NOTHING_FOUND = "(không tìm thấy số hiệu, ngày hay tiêu đề trong tệp)"
ADMIN_UPLOAD_DUPLICATE = (
    "Tài liệu này đã có trong kho tri thức (<code>{doc_id}</code>, cùng nội dung), "
    "nên không lưu thêm bản nữa."
)
ADMIN_UPLOAD_BAD_TYPE = (
    "Loại văn bản «{value}» chưa đúng; dùng: Nghị định, Thông tư, Thông tư liên tịch, "
    "Quyết định, Nghị quyết, Chỉ thị, Kế hoạch, Hướng dẫn."
)
ADMIN_BUTTON_FROM_FILE = "📄 Lấy từ tệp"
ADMIN_BUTTON_CANCEL = "Hủy"
ADMIN_UPLOAD_BAD_META = (
    "Chưa đúng mẫu. Vui lòng gửi: <code>Tiêu đề | Số hiệu | Ngày (dd/mm/yyyy)</code> "
    "(bắt buộc có tiêu đề), hoặc từng dòng <code>trường: giá trị</code> (tiêu đề, loại, số, "
    "cơ quan, ngày, hiệu lực), hoặc bấm «Lấy từ tệp»."
)
ADMIN_UPLOAD_BAD_DATE = "Ngày «{value}» chưa hợp lệ; vui lòng ghi theo dạng dd/mm/yyyy."
ADMIN_UPLOAD_CANCELLED = "Đã hủy tải tài liệu lên."
ADMIN_UPLOAD_EXPIRED = "Không còn tệp đang chờ. Vui lòng gửi lại tài liệu."
ADMIN_UPLOAD_INVALID = (
    "❌ Không thể thêm tài liệu này: {error}\nTài liệu chưa được đưa vào kho tri thức."
)
ADMIN_UPLOAD_SAVED = (
    "Đã lưu tài liệu <b>{title}</b> ({status}; <code>{doc_id}</code>). "
    "Đang cập nhật chỉ mục, sẽ báo lại khi xong…"
)
ADMIN_REINDEX_STARTED = "Đang cập nhật chỉ mục{full}, sẽ báo lại khi xong…"
ADMIN_REINDEX_FULL = " (xây lại toàn bộ)"
ADMIN_REINDEX_QUEUED = "Một lần cập nhật khác đang chạy; yêu cầu này sẽ chạy ngay sau đó."
ADMIN_REINDEX_DONE = (
    "✅ Đã cập nhật chỉ mục: thêm {added}, thay đổi {changed}, gỡ {removed} tài liệu; "
    "{chunks} đoạn; {seconds:.1f} giây."
)
ADMIN_REINDEX_RELOADED = "Bot đã chuyển sang chỉ mục mới."
ADMIN_REINDEX_NOT_RELOADED = "Bot vẫn dùng chỉ mục đang phục vụ (không có thay đổi để nạp lại)."
ADMIN_REINDEX_DOC_ERROR = (
    "❌ Cập nhật chỉ mục thất bại: {error}\nBot vẫn trả lời bằng chỉ mục cũ.{rolled_back}"
)
ADMIN_REINDEX_FAILED = (
    "❌ Cập nhật chỉ mục thất bại do lỗi hệ thống. Bot vẫn trả lời bằng chỉ mục cũ.{rolled_back}\n"
    "Quản trị viên kỹ thuật có thể xem nhật ký (log) để biết chi tiết."
)
ADMIN_REINDEX_ROLLED_BACK = "\nTài liệu vừa tải lên đã được gỡ ra để kho tri thức nhất quán."
ADMIN_REINDEX_SKIPPED = "⚠️ Bỏ qua {count} tài liệu không đọc được (bản cũ, nếu có, vẫn được dùng):"
ADMIN_REINDEX_SKIPPED_LINE = "• <code>{doc_id}</code>: {error}"
ADMIN_SOURCES_EMPTY = "Chỉ mục chưa có tài liệu nào."
ADMIN_SOURCES_HEADER = "<b>Tài liệu trong chỉ mục ({count})</b>"
ADMIN_SOURCE_LINE = "{n}. {upload}<b>{title}</b>\n   {status}\n   <code>{doc_id}</code>"
ADMIN_STATUS_USAGE = (
    "Cách dùng: <code>/status &lt;số hiệu, doc_id hoặc một phần tiêu đề&gt;</code>, "
    "ví dụ <code>/status 29/2014/QĐ-UBND</code>. Xem doc_id bằng lệnh /sources."
)
ADMIN_UPLOAD_TIMED_OUT = (
    "⏱ Đã hủy tải tài liệu vì lâu không nhận được thông tin tài liệu. Gửi lại tệp khi cần."
)
ADMIN_STATUS_NOT_FOUND = "Không tìm thấy văn bản nào khớp «{query}»."
ADMIN_STATUS_AMBIGUOUS = "Có nhiều văn bản khớp «{query}». Vui lòng ghi rõ số hiệu hoặc doc_id:\n{choices}"
ADMIN_STATUS_CARD = "<b>{title}</b>\nHiện tại: {status}\n<code>{doc_id}</code>\n\nChọn trạng thái mới:"
ADMIN_STATUS_BUTTONS = {
    "in_force": "✅ Còn hiệu lực",
    "amended": "✏️ Đã sửa đổi",
    "superseded": "⛔ Bị thay thế",
    "expired": "⌛ Hết hiệu lực",
    "clear": "↩️ Theo tệp gốc",
}
ADMIN_STATUS_ASK_BY = (
    "Gửi số hiệu văn bản {relation} (nhiều số cách nhau bằng dấu phẩy), "
    "hoặc gõ <code>-</code> nếu chưa rõ. Gõ /huy để hủy."
)
ADMIN_STATUS_RELATION = {"amended": "sửa đổi, bổ sung", "superseded": "thay thế"}
ADMIN_STATUS_ASK_DATE = (
    "Gửi ngày hết hiệu lực (dd/mm/yyyy), hoặc gõ <code>-</code> nếu chưa rõ. Gõ /huy để hủy."
)
ADMIN_STATUS_BAD_DATE = "Ngày «{value}» chưa hợp lệ; vui lòng ghi theo dạng dd/mm/yyyy, hoặc gõ -."
ADMIN_STATUS_DONE = (
    "✅ Đã cập nhật: <b>{title}</b>\n{status}\n"
    "Câu trả lời của bot áp dụng ngay, không cần khởi động lại."
)
ADMIN_STATUS_EXPIRED = "Yêu cầu này đã hết hạn. Vui lòng gõ lại lệnh /status."
ADMIN_STATUS_CANCELLED = "Đã hủy, trạng thái văn bản giữ nguyên."
ADMIN_STATUS_FAILED = "Không lưu được trạng thái: {error}"
ADMIN_STATUS_TIMED_OUT = "⏱ Đã hủy đổi trạng thái vì lâu không nhận được số hiệu hoặc ngày."
ADMIN_REMOVE_USAGE = (
    "Cách dùng: <code>/remove &lt;doc_id hoặc một phần tiêu đề/số hiệu&gt;</code>\n"
    "Xem doc_id bằng lệnh /sources."
)
ADMIN_REMOVE_NOT_FOUND = "Không tìm thấy tài liệu tải lên nào khớp «{query}»."
ADMIN_REMOVE_BUILTIN = (
    "Tài liệu «{title}» thuộc bộ tài liệu có sẵn của hệ thống; chỉ gỡ được tài liệu đã tải lên "
    "qua Telegram. Tài liệu có sẵn cần được sửa trong kho mã nguồn (thư mục knowledge/)."
)
ADMIN_REMOVE_AMBIGUOUS = "Có nhiều tài liệu khớp «{query}». Vui lòng ghi rõ doc_id:\n{choices}"
ADMIN_REMOVE_CONFIRM = "Gỡ tài liệu <b>{title}</b> (<code>{doc_id}</code>) khỏi kho tri thức?"
ADMIN_BUTTON_REMOVE_YES = "🗑 Gỡ tài liệu"
ADMIN_BUTTON_REMOVE_NO = "Giữ lại"
ADMIN_REMOVE_KEPT = "Đã giữ nguyên tài liệu."
ADMIN_REMOVE_EXPIRED = "Yêu cầu gỡ đã hết hạn. Vui lòng gõ lại lệnh /remove."
ADMIN_REMOVE_DONE = "Đã gỡ tài liệu <code>{doc_id}</code>. Đang cập nhật chỉ mục…"
ADMIN_REMOVE_FAILED = "Không gỡ được tệp <code>{doc_id}</code>. Vui lòng thử lại sau."
# === end admin ===
