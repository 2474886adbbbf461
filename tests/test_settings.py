"""Settings read from REPORTFLOW_* variables: REPORTFLOW_FROZEN_NOW's format, and refusals."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from typer.testing import CliRunner

from reportflow.cli import app
from reportflow.core import clock
from reportflow.core.config import SettingsError, reload_settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-06-05T09:00:00+07:00", "2020-06-05T09:00:00+07:00"),
        ("2020-06-05T09:00", "2020-06-05T09:00:00+07:00"),  # naive: Vietnam's time
        ("2020-06-05T02:00:00+00:00", "2020-06-05T02:00:00+00:00"),
        ("2020-06-05", "2020-06-05T00:00:00+07:00"),
    ],
)
def test_the_frozen_clock_reads_iso_8601(restore_environment, value, expected):
    os.environ["REPORTFLOW_FROZEN_NOW"] = value
    reload_settings()
    assert clock.now() == dt.datetime.fromisoformat(expected)
    assert clock.now().isoformat() == expected
    assert clock.today() == dt.date(2020, 6, 5)


@pytest.mark.parametrize("value", ["05/06/2020 09:00", "2020-06-31T09:00", "hôm nay", "x" * 5000])
def test_a_malformed_frozen_clock_is_refused_naming_the_variable_and_an_example(
    restore_environment, value
):
    os.environ["REPORTFLOW_FROZEN_NOW"] = value
    with pytest.raises(SettingsError) as refused:
        reload_settings()
    message = str(refused.value)
    assert message.startswith(f"Cấu hình không hợp lệ: REPORTFLOW_FROZEN_NOW='{value[:40]}'")
    assert "không phải thời điểm ISO 8601" in message and "2020-06-05T09:00:00+07:00" in message
    assert len(message) < 300

    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "REPORTFLOW_FROZEN_NOW" in result.output and "Traceback" not in result.output


def test_another_unreadable_setting_is_named_without_its_value(restore_environment):
    os.environ["REPORTFLOW_SMTP_PORT"] = "mật-khẩu-nhầm-chỗ"
    with pytest.raises(SettingsError) as refused:
        reload_settings()
    assert "REPORTFLOW_SMTP_PORT: giá trị không hợp lệ" in str(refused.value)
    assert "mật-khẩu" not in str(refused.value)
