"""Entry point: `python -m bot` runs the Telegram bot; `--console` chats in the terminal."""

from __future__ import annotations

import argparse
import logging
import sys
from urllib.parse import urlparse

from telegram import Update
from telegram.error import InvalidToken

from bot import texts
from bot.app import build_application
from bot.console import ensure_index, run_console
from bot.event_loop import install_event_loop
from index.logs import configure_logging
from index.settings import Settings

logger = logging.getLogger(__name__)


def quiet_logs_for_console() -> None:
    """Keeps the terminal chat readable: warnings only (this also hides encode progress bars)."""
    root = logging.getLogger()
    root.setLevel(max(logging.WARNING, root.level))


def run(settings: Settings) -> None:
    """Runs the bot by polling or webhook; without a token, explains and opens the console."""
    if not settings.has_telegram_token:
        sys.stdout.write(texts.NO_TOKEN + "\n\n")
        quiet_logs_for_console()
        run_console(settings)
        return
    ensure_index(settings, lambda line: logger.info("%s", line))
    app = build_application(settings)
    if settings.telegram_mode == "webhook" and not settings.webhook_url:
        raise SystemExit("TELEGRAM_MODE=webhook needs WEBHOOK_URL (see .env.example).")
    logger.info("Event loop: %s", install_event_loop(settings.event_loop))
    try:
        if settings.telegram_mode == "webhook":
            secret = settings.webhook_secret_token
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlparse(settings.webhook_url or "").path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except InvalidToken:
        # PTB's message quotes the token; an operator needs the fix, not the secret.
        raise SystemExit(
            "Telegram rejected TELEGRAM_BOT_TOKEN: copy it again from @BotFather into .env "
            "(see .env.example)."
        ) from None


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments, configures logging and starts the bot or the console."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Trợ lý Khuyến công")
    parser.add_argument("--console", action="store_true", help="chat in the terminal instead")
    args = parser.parse_args(argv)
    settings = Settings()
    # httpx logs every Bot API request at INFO, which drowns the bot's own log; the token is
    # masked wherever it appears (a wrong token is quoted in PTB's error message).
    token = settings.telegram_bot_token
    configure_logging(settings.log_level, secrets=[token.get_secret_value()] if token else [])
    if args.console:
        quiet_logs_for_console()
        run_console(settings)
    else:
        run(settings)


if __name__ == "__main__":
    main()
