"""The one typed Settings and .env.example stay in sync."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from index.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _env_name(name: str) -> str:
    alias = Settings.model_fields[name].alias
    return (alias or name).upper()


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text("utf-8"), re.M))
    names = {_env_name(name) for name in Settings.model_fields}
    assert not names - documented, "settings missing from .env.example"
    assert not documented - names, "keys in .env.example that Settings does not read"


def test_a_blank_token_is_no_token() -> None:
    assert not Settings(telegram_bot_token=None).has_telegram_token
    assert not Settings(telegram_bot_token=SecretStr("   ")).has_telegram_token
    assert Settings(telegram_bot_token=SecretStr("123:abc")).has_telegram_token


def test_conversation_timeout_and_reload_interval_have_safe_defaults() -> None:
    settings = Settings()
    assert settings.conversation_timeout_minutes == 30
    assert settings.index_reload_seconds > 0
