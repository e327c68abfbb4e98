"""EVENT_LOOP: uvloop when installed, asyncio otherwise, and a clear error when required."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator

import pytest

from bot.event_loop import install_event_loop


class _FakeUvloopPolicy(asyncio.DefaultEventLoopPolicy):
    """Stands in for uvloop's policy: the tests must not depend on uvloop being installed."""


@pytest.fixture
def policy_restored() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


def _uvloop(monkeypatch: pytest.MonkeyPatch, *, installed: bool) -> None:
    module = types.ModuleType("uvloop")
    module.EventLoopPolicy = _FakeUvloopPolicy  # type: ignore[attr-defined]
    # None in sys.modules makes `import uvloop` raise ImportError.
    monkeypatch.setitem(sys.modules, "uvloop", module if installed else None)


@pytest.mark.usefixtures("policy_restored")
def test_auto_takes_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    _uvloop(monkeypatch, installed=True)
    assert install_event_loop("auto") == "uvloop"
    assert isinstance(asyncio.get_event_loop_policy(), _FakeUvloopPolicy)


@pytest.mark.usefixtures("policy_restored")
def test_auto_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    _uvloop(monkeypatch, installed=False)
    before = asyncio.get_event_loop_policy()
    assert install_event_loop("auto") == "asyncio"
    assert asyncio.get_event_loop_policy() is before


@pytest.mark.usefixtures("policy_restored")
def test_asyncio_is_kept_even_with_uvloop_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    _uvloop(monkeypatch, installed=True)
    assert install_event_loop("asyncio") == "asyncio"
    assert not isinstance(asyncio.get_event_loop_policy(), _FakeUvloopPolicy)


def test_uvloop_required_but_missing_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    _uvloop(monkeypatch, installed=False)
    with pytest.raises(SystemExit, match="pip install uvloop"):
        install_event_loop("uvloop")
