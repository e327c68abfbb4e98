"""Texts of lead registration /dangky and privacy /xoadulieu (bot/handlers/leads.py,
lead_steps.py, lead_prompts.py, privacy.py).

Templates take `str.format` values, HTML-escaped by the caller.
"""

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
