"""What the simulated users of the load test do, and how their experience is measured.

Each function plays many users against a `FakeBotApi` (one thread per user, like people who
each wait for the bot's reply before typing again) and returns what they saw. The bot under
test may run in this process (tests) or as a real `python -m bot` process (`scripts.loadtest`).

The registration player is driven by the prompts in `bot.texts`, not by a fixed script: it
answers whatever the bot asks, so a reordered flow still works, and a prompt for a field
already answered (a replay after a crash) is counted, not answered twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot import texts
from scripts.fake_bot_api import ApiCall, FakeBotApi, FakeUser
from scripts.load_leads import template_regex

#: Questions owners ask (the benchmark's), cycled so neighbours ask different things.
QUESTIONS = (
    "Nghị định nào quy định về khuyến công?",
    "Cơ sở công nghiệp nông thôn được hỗ trợ những gì?",
    "Mức hỗ trợ máy móc thiết bị tiên tiến tối đa là bao nhiêu?",
    "ho tro xay dung mo hinh trinh dien ky thuat",
    "Thủ tục đăng ký đề án khuyến công địa phương như thế nào?",
    "Hộ kinh doanh có được hỗ trợ tham gia hội chợ không?",
    "Khuyến công có hỗ trợ chuyển đổi số không?",
    "Kinh phí khuyến công địa phương lấy từ đâu?",
)
#: First user id of each scenario, far from staff ids and from each other.
ASK_USER_BASE = 700_000
REGISTER_USER_BASE = 800_000
PROBE_USER_ID = 699_999

#: The bot's "registration saved" replies, capturing the lead id.
SAVED_RES = (template_regex(texts.LEAD_SAVED_NEW), template_regex(texts.LEAD_SAVED_UPDATE))
#: Replies that mean the bot failed the user.
FAILURES = (texts.ERROR_REPLY, texts.ENGINE_UNAVAILABLE, texts.LEAD_NOT_SAVED)


def is_failure(call: ApiCall) -> bool:
    """Tells whether a sent message is an apology instead of what the user asked for."""
    return call.method == "sendMessage" and any(text in call.text for text in FAILURES)


def is_answer(call: ApiCall) -> bool:
    """Tells whether a call ends the reply to a question: the part carrying the buttons."""
    return call.method == "sendMessage" and bool(call.callback_data())


def percentile(values: Sequence[float], share: float) -> float | None:
    """Returns the nearest-rank percentile (share in 0..1), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(slots=True)
class Latencies:
    """Reply latencies in seconds, with the summary the report prints."""

    values: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | None]:
        """p50, p95 and max, rounded to milliseconds."""

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "p50_s": rounded(percentile(self.values, 0.5)),
            "p95_s": rounded(percentile(self.values, 0.95)),
            "max_s": rounded(max(self.values) if self.values else None),
        }


@dataclass(slots=True)
class AskResult:
    """What N users asking questions saw."""

    users: int
    questions: int
    answered: int = 0
    errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    latency: Latencies = field(default_factory=Latencies)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the result."""
        rate = self.answered / self.seconds if self.seconds else None
        return {
            "users": self.users,
            "questions_per_user": self.questions,
            "sent": self.users * self.questions,
            "answered": self.answered,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "seconds": round(self.seconds, 2),
            "answers_per_s": None if rate is None else round(rate, 2),
            **self.latency.summary(),
        }


def ask_question(
    api: FakeBotApi, user: FakeUser, question: str, *, start: int, timeout: float
) -> tuple[str, float, int]:
    """Asks one question and waits for the answer.

    Returns:
        ("answered" | "error" | "timeout", latency in seconds, index to resume waiting at).
    """
    update_id = user.send(question)
    call, index = api.wait_for(
        lambda c: is_answer(c) or is_failure(c), chat_id=user.user_id, start=start, timeout=timeout
    )
    if call is None:
        return "timeout", timeout, index
    latency = call.at - api.pushed_at[update_id]
    return ("error" if is_failure(call) else "answered"), latency, index


def run_ask(
    api: FakeBotApi, *, users: int, questions: int, timeout: float, first_user: int = ASK_USER_BASE
) -> AskResult:
    """N users each ask `questions` questions, one after the other (closed loop)."""
    result = AskResult(users=users, questions=questions)
    lock = threading.Lock()

    def play(number: int) -> None:
        user = FakeUser(api, first_user + number)
        index = len(api.calls_to(user.user_id))
        for turn in range(questions):
            question = QUESTIONS[(number + turn) % len(QUESTIONS)]
            outcome, latency, index = ask_question(
                api, user, question, start=index, timeout=timeout
            )
            with lock:
                if outcome == "answered":
                    result.answered += 1
                    result.latency.values.append(latency)
                elif outcome == "error":
                    result.errors += 1
                else:
                    result.timeouts += 1
                    return

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, users)) as pool:
        list(pool.map(play, range(users)))
    result.seconds = time.monotonic() - started
    return result


# --- registrations -----------------------------------------------------------------------------


@dataclass(slots=True)
class Registration:
    """One simulated owner's registration: what they typed and what the bot confirmed."""

    user_id: int
    lead_id: int | None = None
    confirm_latency: float | None = None
    failure: str | None = None
    duplicate_prompts: int = 0
    steps: int = 0
    #: Whether the last thing this user sent got no reply at all (a dropped update).
    unanswered: bool = False
    step_latency: Latencies = field(default_factory=Latencies)

    @property
    def phone(self) -> str:
        """A valid Vietnamese mobile number unique to this user."""
        return f"0912{self.user_id % 1_000_000:06d}"


#: Prompt text -> (field, answer factory). The answers are always valid, so a field asked
#: twice can only be a replay, never a validation retry.
_PROMPTS: tuple[tuple[str, str, Callable[[Registration], str]], ...] = (
    (texts.LEAD_ASK_NAME, "name", lambda r: f"Nguyễn Văn {r.user_id}"),
    (texts.LEAD_ASK_PHONE, "phone", lambda r: r.phone),
    (texts.LEAD_ASK_ESTABLISHMENT, "establishment", lambda r: f"Cơ sở mộc số {r.user_id}"),
    (texts.LEAD_ASK_TYPE, "type", lambda _r: "Hộ kinh doanh"),
    (texts.LEAD_ASK_PROVINCE_TEXT, "province", lambda _r: "Quảng Nam"),
    (texts.LEAD_ASK_PROVINCE, "province", lambda _r: "Quảng Nam"),
    (texts.LEAD_ASK_DISTRICT, "district", lambda _r: "Điện Bàn"),
    (texts.LEAD_ASK_SUPPORT, "support", lambda _r: "Máy móc thiết bị"),
)


def _prompt_of(call: ApiCall) -> tuple[str, str] | None:
    """Classifies a bot message: ("field", name), ("press", data), ("saved", id) or None."""
    if call.method != "sendMessage":
        return None
    buttons = call.callback_data()
    if "lead:confirm" in buttons:
        return "press", "lead:confirm"
    if "lead:consent:yes" in buttons:
        return "press", "lead:consent:yes"
    for regex in SAVED_RES:
        match = regex.search(call.text)
        if match:
            return "saved", match["lead_id"]
    if is_failure(call):
        return "failure", call.text
    for prompt, name, _ in _PROMPTS:
        if prompt in call.text:
            return "field", name
    return None


def register(
    api: FakeBotApi,
    registration: Registration,
    *,
    timeout: float,
    on_confirm: Callable[[], None] | None = None,
) -> Registration:
    """Plays one registration from /dangky to the bot's "saved" message."""
    user = FakeUser(api, registration.user_id)
    answers = {name: make for _, name, make in _PROMPTS}
    answered: set[str] = set()
    index = len(api.calls_to(user.user_id))
    update_id = user.send("/dangky")
    confirm_update: int | None = None
    for _ in range(40):
        call, index = api.wait_for(
            lambda c: _prompt_of(c) is not None, chat_id=user.user_id, start=index, timeout=timeout
        )
        if call is None:
            registration.failure = "timeout"
            pushed = api.pushed_at[update_id]
            registration.unanswered = not any(c.at >= pushed for c in api.calls_to(user.user_id))
            return registration
        kind, value = _prompt_of(call) or ("", "")
        registration.step_latency.values.append(call.at - api.pushed_at[update_id])
        if kind == "saved":
            registration.lead_id = int(value)
            if confirm_update is not None:
                registration.confirm_latency = call.at - api.pushed_at[confirm_update]
            return registration
        if kind == "failure":
            registration.failure = value[:80]
            return registration
        if (kind == "field" and value in answered) or (kind == "press" and value in answered):
            # Asked again for what was already answered: a replayed update, not a new step.
            registration.duplicate_prompts += 1
            continue
        registration.steps += 1
        answered.add(value)
        if kind == "press":
            update_id = user.press(value, int(call.result["message_id"]))
            if value == "lead:confirm":
                confirm_update = update_id
                if on_confirm is not None:
                    on_confirm()
        else:
            update_id = user.send(answers[value](registration))
    registration.failure = "too many steps"
    return registration


@dataclass(slots=True)
class RegisterResult:
    """What N concurrent registrations (and one question asked meanwhile) saw."""

    registrations: list[Registration]
    seconds: float = 0.0
    probe_latency: float | None = None
    probe_outcome: str | None = None

    @property
    def confirmed(self) -> list[Registration]:
        """Registrations the bot told the user were saved."""
        return [r for r in self.registrations if r.lead_id is not None]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the result (lead counts are added by the caller)."""
        confirm = Latencies([r.confirm_latency for r in self.confirmed if r.confirm_latency])
        steps = Latencies([v for r in self.registrations for v in r.step_latency.values])
        failures: dict[str, int] = {}
        for registration in self.registrations:
            if registration.failure:
                failures[registration.failure] = failures.get(registration.failure, 0) + 1
        return {
            "registrations": len(self.registrations),
            "confirmed": len(self.confirmed),
            "failures": failures,
            "duplicate_prompts": sum(r.duplicate_prompts for r in self.registrations),
            # Stuck users whose last message got no reply at all (vs. a reply out of step).
            "unanswered": sum(1 for r in self.registrations if r.unanswered),
            "seconds": round(self.seconds, 2),
            "confirm": confirm.summary(),
            "step": steps.summary(),
            "probe_question": {
                "outcome": self.probe_outcome,
                "latency_s": None if self.probe_latency is None else round(self.probe_latency, 3),
            },
        }


def run_register(
    api: FakeBotApi,
    *,
    registrations: int,
    timeout: float,
    first_user: int = REGISTER_USER_BASE,
    probe: bool = True,
    midway: Callable[[], None] | None = None,
) -> RegisterResult:
    """N users register at once; when half have pressed "confirm", someone asks a question.

    Args:
        api: The fake Bot API the bot polls.
        registrations: How many users register concurrently.
        timeout: Seconds a user waits for each reply before giving up.
        first_user: User id of the first registering user.
        probe: Whether to ask the question meanwhile.
        midway: Called once (in its own thread) when half have pressed "confirm", e.g. to
            kill the bot; the users keep waiting for their replies meanwhile.
    """
    players = [Registration(first_user + number) for number in range(registrations)]
    result = RegisterResult(players)
    half = threading.Event()
    pressed = 0
    lock = threading.Lock()

    def confirmed_pressed() -> None:
        nonlocal pressed
        with lock:
            pressed += 1
            if pressed >= max(1, registrations // 2):
                half.set()

    def ask_probe() -> None:
        half.wait(timeout)
        if midway is not None:
            midway()
        if probe:
            user = FakeUser(api, PROBE_USER_ID)
            outcome, latency, _ = ask_question(
                api, user, QUESTIONS[0], start=len(api.calls_to(PROBE_USER_ID)), timeout=timeout
            )
            result.probe_outcome, result.probe_latency = outcome, latency

    started = time.monotonic()
    prober = threading.Thread(target=ask_probe, daemon=True)
    prober.start()
    with ThreadPoolExecutor(max_workers=max(1, registrations)) as pool:
        list(
            pool.map(
                lambda r: register(api, r, timeout=timeout, on_confirm=confirmed_pressed), players
            )
        )
    half.set()
    prober.join(timeout + 5)
    result.seconds = time.monotonic() - started
    return result
