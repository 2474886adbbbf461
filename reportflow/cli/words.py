"""Typer's own words on the command line, in Vietnamese: the help's frame (usage, panel titles,
the --help option) and the usage errors. Typer keeps the frame's words as module constants and
its copy of Click writes the rest in English, so the errors are said again from their English
text. `reportflow.cli.app` installs this in its own process.
"""

from __future__ import annotations

import re

import typer.rich_utils as rich_help
from typer import core as typer_core
from typer._click import core as click_core
from typer._click.formatting import HelpFormatter

USAGE = "Cách dùng: "
HELP_OPTION = "Hiện hướng dẫn này rồi thoát."
FRAME = {
    "ARGUMENTS_PANEL_TITLE": "Tham số",
    "OPTIONS_PANEL_TITLE": "Tuỳ chọn",
    "COMMANDS_PANEL_TITLE": "Lệnh",
    "ERRORS_PANEL_TITLE": "Lỗi",
    "DEFAULT_STRING": "[mặc định: {}]",
    "ENVVAR_STRING": "[biến môi trường: {}]",
    "REQUIRED_LONG_STRING": "[bắt buộc]",
    "DEPRECATED_STRING": "(không dùng nữa) ",
    "ABORTED_TEXT": "Đã dừng.",
    "RICH_HELP": "Xem [blue]'{command_path} {help_option}'[/] để biết cách dùng.",
}
USAGE_PIECES = {"[OPTIONS]": "[TUỲ CHỌN]", "COMMAND [ARGS]...": "LỆNH [THAM SỐ]..."}
TYPE_NAMES = {
    "int": "số",
    "float": "số",
    "str": "chữ",
    "path": "tệp",
    "list[str]": "chữ, lặp lại được",
}
"""What a value is, in the help's type column; a flag (bool) shows none."""
KINDS = {"argument": "tham số", "option": "tuỳ chọn", "parameter": "tham số"}
ERRORS = [
    (r"Missing (argument|option|parameter) (.+?)\.", lambda m: f"Thiếu {KINDS[m[1]]} {m[2]}."),
    (r"Invalid value for (.+?): ", lambda m: f"Giá trị của {m[1]} không hợp lệ: "),
    (r"Invalid value: ", lambda m: "Giá trị không hợp lệ: "),
    (r"Input should be a valid integer[^.]*", lambda m: "cần một số nguyên"),
    (r"No such option: (\S+)", lambda m: f"Không có tuỳ chọn {m[1]}"),
    (r"No such command (.+?)\.", lambda m: f"Không có lệnh {m[1]}."),
    (r"Did you mean (.+?)\?", lambda m: f"Có phải ý là {m[1]}?"),
    (r"\(Possible options: (.+?)\)", lambda m: f"(Các tuỳ chọn: {m[1]})"),
    (r"Got unexpected extra argument(?:s|\(s\))? \((.+?)\)", lambda m: f"Thừa tham số ({m[1]})"),
    (r"Option (.+?) requires an argument\.", lambda m: f"Tuỳ chọn {m[1]} cần một giá trị."),
    (r"Option (.+?) requires (\d+) arguments\.", lambda m: f"Tuỳ chọn {m[1]} cần {m[2]} giá trị."),
    (r"Missing command\.", lambda m: "Thiếu lệnh."),
]


def vietnamese_error(english: str) -> str:
    """A usage error's text in Vietnamese; what is not known stays as it came."""
    for pattern, say in ERRORS:
        english = re.sub(pattern, say, english)
    return english


class _VietnameseHelpFormatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE if prefix is None else prefix)


def install() -> None:
    """Typer's frame speaks Vietnamese from here on, in this process."""
    for name, words in FRAME.items():
        setattr(rich_help, name, words)
    click_core.Context.formatter_class = _VietnameseHelpFormatter
    english_help_option = click_core.Command.get_help_option

    def get_help_option(self, ctx):
        option = english_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    click_core.Command.get_help_option = get_help_option
    for param_class in (typer_core.TyperOption, typer_core.TyperArgument):
        _say_types_in_vietnamese(param_class)
    for command_class in (click_core.Command, typer_core.TyperGroup):
        _say_usage_pieces_in_vietnamese(command_class)
    english_error = rich_help.rich_format_error

    def rich_format_error(error) -> None:
        said = vietnamese_error(error.format_message())
        error.format_message = lambda: said
        english_error(error)

    rich_help.rich_format_error = rich_format_error


def _say_usage_pieces_in_vietnamese(command_class: type) -> None:
    english = command_class.collect_usage_pieces

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [USAGE_PIECES.get(piece, piece) for piece in english(self, ctx)]

    command_class.collect_usage_pieces = collect_usage_pieces


def _say_types_in_vietnamese(param_class: type) -> None:
    english = param_class.display_type_rich

    def display_type_rich(self, ctx) -> str | None:
        shown = english(self, ctx)
        if shown is None or not (shown.startswith("<") and shown.endswith(">")):
            return shown
        name = shown[1:-1].lower()
        if name == "bool":
            return None
        return f"<{TYPE_NAMES[name]}>" if name in TYPE_NAMES else shown

    param_class.display_type_rich = display_type_rich
