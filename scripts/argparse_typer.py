"""Typer commands generated from the argparse parsers of `scripts.evaluate` and `scripts.bench`.

Those two modules keep their argparse parser: outside checks call `python -m scripts.evaluate
…` and `python -m scripts.bench …` and read their `--json`. The parser stays the one
definition of their options; this module turns it into a real Typer command, so
`khuyencong evaluate --help` lists every option (a flag added to the parser shows up here
without further work), Typer checks types and choices, and the command hands exactly the
options typed on the command line back to the module's `main(argv)`.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

#: argparse `type=` values Typer understands as they are.
_TYPES: dict[Any, Any] = {None: str, str: str, int: int, float: float, Path: Path}


def _option_type(action: argparse.Action) -> tuple[Any, dict[str, Any]]:
    """The annotation and extra typer.Option arguments for one argparse action."""
    if isinstance(action, argparse._StoreTrueAction):
        return bool, {"is_flag": True}
    if type(action) is not argparse._StoreAction or action.nargs is not None:
        raise NotImplementedError(
            f"{'/'.join(action.option_strings)}: only store and store_true options are bridged"
        )
    if action.choices is not None:
        choices = tuple(str(choice) for choice in action.choices)
        return Literal[choices], {}  # Typer shows and checks a Literal as a choice
    if action.type not in _TYPES:
        raise NotImplementedError(f"{'/'.join(action.option_strings)}: type {action.type!r}")
    return _TYPES[action.type], {}


def _parameters(parser: argparse.ArgumentParser) -> list[tuple[argparse.Action, inspect.Parameter]]:
    found: list[tuple[argparse.Action, inspect.Parameter]] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:
            raise NotImplementedError(f"positional argument {action.dest} is not bridged")
        annotation, extra = _option_type(action)
        shown = annotation is not bool and action.default is not None
        option = typer.Option(*action.option_strings, help=action.help, show_default=shown, **extra)
        default: Any = inspect.Parameter.empty if action.required else action.default
        if annotation is bool:
            default = False
        found.append(
            (
                action,
                inspect.Parameter(
                    action.dest,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=default,
                    annotation=Annotated[annotation, option],
                ),
            )
        )
    return found


def _argv(actions: list[argparse.Action], values: dict[str, Any], ctx: typer.Context) -> list[str]:
    """The options typed on the command line, in the parser's order, as argparse reads them."""
    argv: list[str] = []
    for action in actions:
        source = ctx.get_parameter_source(action.dest)
        # Typer ships its own click, so compare by name rather than import its enum.
        if source is None or source.name != "COMMANDLINE":
            continue
        value = values[action.dest]
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            if value:
                argv.append(flag)
        else:
            argv += [flag, str(value)]
    return argv


def add_argparse_command(
    app: typer.Typer,
    name: str,
    *,
    build_parser: Callable[[], argparse.ArgumentParser],
    run: Callable[[list[str]], int],
    help_text: str,
) -> None:
    """Registers `name` on `app` with the options of `build_parser()`, running `run(argv)`.

    Args:
        app: The Typer app.
        name: The command name.
        build_parser: Builds the module's argparse parser (its single option definition).
        run: The module's entry point; its return value is the exit code.
        help_text: The command's help (Vietnamese, like the other commands).
    """
    pairs = _parameters(build_parser())
    actions = [action for action, _ in pairs]

    def command(ctx: typer.Context, **values: Any) -> None:
        raise typer.Exit(code=run(_argv(actions, values, ctx)))

    context = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )
    parameters = [context, *(parameter for _, parameter in pairs)]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    command.__doc__ = help_text
    command.__name__ = name
    app.command(name)(command)
