"""Every page that refuses something: its HTTP status, title and Vietnamese text."""

from __future__ import annotations

from dataclasses import dataclass

REFUSALS = {
    "tampered": (
        403,
        "Liên kết không đúng",
        "Liên kết này không mở được: có thể nó bị cắt mất một phần hoặc bị sửa khi sao chép. "
        "Hãy bấm lại vào liên kết trong thư đề nghị (không gõ lại bằng tay). Nếu vẫn không "
        "được, hãy báo Văn phòng để được gửi liên kết mới.",
    ),
    "expired": (
        410,
        "Liên kết đã hết hạn",
        "Liên kết này đã hết hạn sử dụng. Nếu phần báo cáo vẫn cần gửi, hãy báo Văn phòng để "
        "được gửi liên kết mới.",
    ),
    "ended": (
        410,
        "Kỳ báo cáo đã kết thúc",
        "Kỳ báo cáo này đã kết thúc nên không nhận thêm bài. Nếu cần bổ sung, hãy liên hệ "
        "Văn phòng.",
    ),
    "revoked": (
        403,
        "Liên kết đã được thay",
        "Liên kết này đã bị thu hồi và thay bằng một liên kết mới. Hãy dùng liên kết trong thư "
        "mới nhất; nếu không có, hãy báo Văn phòng.",
    ),
    "not_owner": (
        403,
        "Phần này không còn do đơn vị anh/chị phụ trách",
        "Phần báo cáo này nay do đơn vị khác phụ trách, nên liên kết không dùng được. Hãy liên "
        "hệ Văn phòng nếu có nhầm lẫn.",
    ),
    "not_director": (
        403,
        "Trang dự thảo chỉ dành cho người phê duyệt",
        "Liên kết này mở dự thảo trình lãnh đạo phê duyệt, nên chỉ dùng được bằng liên kết trong "
        "thư gửi riêng cho người ký hoặc người được giao phê duyệt báo cáo này.",
    ),
    "rate": (
        429,
        "Xin đợi một chút",
        "Liên kết này vừa được dùng quá nhiều lần trong một phút. Hãy đợi một phút rồi tải lại "
        "trang.",
    ),
    "csrf": (
        403,
        "Biểu mẫu không hợp lệ",
        "Biểu mẫu này không được gửi từ trang của anh/chị, nên chưa lưu gì. Hãy mở lại liên "
        "kết trong thư và gửi lại.",
    ),
    "too_large": (
        413,
        "Tệp quá lớn",
        "Tệp gửi lên quá lớn nên chưa được đọc. Hãy bỏ hình ảnh và phần không cần thiết rồi "
        "gửi lại.",
    ),
    "method": (
        405,
        "Không làm được thao tác này",
        "Trang này không nhận cách gửi đó. Hãy mở lại liên kết trong thư và dùng các nút trên "
        "trang.",
    ),
    "invalid": (
        422,
        "Địa chỉ hoặc biểu mẫu không đúng",
        "Địa chỉ hoặc biểu mẫu gửi lên không đúng dạng nên chưa lưu gì. Hãy mở lại liên kết "
        "trong thư (không gõ lại bằng tay) và gửi lại.",
    ),
    "not_found": (
        404,
        "Không có trang này",
        "Không có trang nào ở địa chỉ này. Hãy mở liên kết trong thư đề nghị gửi báo cáo.",
    ),
    "error": (
        500,
        "Có lỗi xảy ra",
        "Máy chủ gặp lỗi nên chưa lưu gì. Hãy thử lại sau ít phút; nếu vẫn lỗi, hãy báo Văn phòng.",
    ),
}


HTTP_REFUSALS = {
    400: "invalid",
    404: "not_found",
    405: "method",
    413: "too_large",
    422: "invalid",
    429: "rate",
}
"""Starlette's own errors, answered with the app's page and headers."""


@dataclass
class Refused(Exception):
    reason: str
