"""Texts of the admin tools: reindex, sources, uploads, document status
(bot/handlers/admin.py, uploads.py, doc_status.py).

Templates take `str.format` values, HTML-escaped by the caller.
"""

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
