"""What every CLI command shares: the console, the settings, failing politely, the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from index.settings import Settings


@dataclass(slots=True)
class CliState:
    """What the callback prepares for every command."""

    console: Console
    settings: Settings | None
    settings_error: str | None = None


def fail(console: Console, message: str) -> NoReturn:
    """Prints a red ❌ line that says what to do, and exits with code 1 (never a trace)."""
    console.print(f"[bold red]❌ {message}[/]")
    raise typer.Exit(code=1)


def state_of(ctx: typer.Context) -> CliState:
    """The CliState the app callback stored on the context."""
    state = ctx.obj
    assert isinstance(state, CliState)
    return state


def settings_of(ctx: typer.Context) -> Settings:
    """The settings, or a polite exit when .env / the environment could not be read."""
    state = state_of(ctx)
    if state.settings is None:
        fail(state.console, f"Không đọc được cấu hình: {state.settings_error}")
    return state.settings


@contextmanager
def db_session(ctx: typer.Context) -> Iterator[Any]:
    """Opens a session on the leads database and disposes the engine afterwards."""
    state = state_of(ctx)
    settings = settings_of(ctx)
    from index.leads.db import create_db_engine, session_scope

    try:
        engine = create_db_engine(settings.database_url)
    except Exception as exc:
        fail(state.console, f"Không kết nối được cơ sở dữ liệu: {exc}. Kiểm tra DATABASE_URL.")
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def hint(console: Console, text: str) -> None:
    """A dim 💡 line under an empty table: what to do next."""
    console.print(f"[dim]💡 {text}[/]", highlight=False)
