"""Texts of the common screens: start, help, menu, free questions, answers and their
sources, the console and errors (bot/handlers/start.py, ask.py, fallback.py, errors.py,
bot/answer_views.py, bot/console.py).

Templates take `str.format` values, HTML-escaped by the caller.
"""

from index.header_meta import TYPE_NAMES as _TYPE_NAMES

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
DOC_TYPE_NAMES: dict[str, str] = dict(_TYPE_NAMES)
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
NOTICE_PARTIAL = (
    "ℹ️ Thư viện hiện chỉ có một phần văn bản này; nội dung còn thiếu chưa tra cứu được."
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
    "Gõ câu hỏi rồi nhấn Enter; các lệnh như trên Telegram: /dangky, /kiemtra, /trogiup, "
    "/xoadulieu. Để bấm nút, gõ số ghi bên cạnh nút. Gõ 'thoat' hoặc nhấn Ctrl-D để thoát."
)
CONSOLE_PROMPT = "Bạn hỏi: "
CONSOLE_BYE = "Tạm biệt!"
CONSOLE_BUILDING_INDEX = "Đang xây dựng chỉ mục tài liệu lần đầu, vui lòng chờ…"
CONSOLE_INDEX_PROGRESS = "  [{done}/{total}] {name}"
CONSOLE_INDEX_READY = "Đã sẵn sàng ({chunks} đoạn văn bản)."
CONSOLE_LOADING = "Đang tải mô hình và chỉ mục…"
#: A button of the last message, pressed by typing its number.
CONSOLE_BUTTON = "  [{number}] {label}"
CONSOLE_FILE_NOT_SHOWN = "(Tệp đính kèm chỉ gửi được trên Telegram.)"
NO_TOKEN = (
    "Chưa có TELEGRAM_BOT_TOKEN nên bot Telegram chưa chạy được.\n"
    "Cách cấu hình:\n"
    "  1. Nhắn @BotFather trên Telegram, gõ /newbot và làm theo hướng dẫn để lấy token.\n"
    "  2. Sao chép .env.example thành .env (cp .env.example .env).\n"
    "  3. Điền dòng TELEGRAM_BOT_TOKEN=<token của bạn> vào .env rồi chạy lại `make run`.\n"
    "Trong lúc chờ, bạn có thể trò chuyện thử với trợ lý ngay trên máy (console)."
)
