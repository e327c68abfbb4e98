"""`status` and `add`: the legal status of a document, and bulk import into the knowledge base.

Registered on the app by scripts/cli.py (`khuyencong status …`, `khuyencong add …`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scripts.cli_state import fail, settings_of, state_of


def document_status(
    ctx: typer.Context,
    document: Annotated[str, typer.Argument(help="Số hiệu, doc_id hoặc một phần tiêu đề.")],
    new_status: Annotated[
        str | None,
        typer.Argument(
            metavar="STATUS", help="in_force, amended, superseded, expired hoặc unknown."
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Số hiệu văn bản sửa đổi / thay thế (lặp lại được)."),
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Ngày hết hiệu lực (dd/mm/yyyy).")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Bỏ trạng thái đã đặt, dùng lại thông tin trong tệp.")
    ] = False,
) -> None:
    """Xem hoặc đặt hiệu lực của một văn bản (không sửa tệp; bot áp dụng ngay)."""
    state = state_of(ctx)
    settings = settings_of(ctx)
    from bot.answer_views import document_lines
    from index.lifecycle import LifecycleError, make_change, resolve_document, write_override
    from index.published import list_sources

    matches = resolve_document(list_sources(settings), document)
    if not matches:
        fail(state.console, f"Không tìm thấy văn bản khớp «{document}» (xem `khuyencong sources`).")
    if len(matches) > 1:
        for doc in matches[:10]:
            state.console.print(f"  • {doc.number or '—'}  {doc.title}  [dim]{doc.doc_id}[/]")
        fail(state.console, f"Có {len(matches)} văn bản khớp «{document}»: ghi rõ số hiệu hoặc doc_id.")
    doc = matches[0]
    if new_status is None and not clear:
        name, line = document_lines(doc)
        state.console.print(f"[bold]{name}[/]\n{line}\n[dim]{doc.doc_id}[/]", highlight=False)
        return
    try:
        change = None if clear else make_change(
            new_status or "", by=by or (), on=on, changed_by="cli"
        )
        write_override(settings.lifecycle_path, doc.doc_id, change)
    except LifecycleError as exc:
        fail(state.console, str(exc))
    except OSError as exc:
        fail(state.console, f"Không ghi được {settings.lifecycle_path}: {exc}")
    updated = next(d for d in list_sources(settings) if d.doc_id == doc.doc_id)
    name, line = document_lines(updated)
    state.console.print(f"✅ [bold]{name}[/]\n{line}", highlight=False)
    state.console.print(
        f"Đã lưu vào {settings.lifecycle_path}; bot đang chạy áp dụng từ câu hỏi kế tiếp."
    )


def add_documents(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục (đọc cả thư mục con).")],
    dest: Annotated[
        str, typer.Option("--dest", help="Thư mục con trong kho tri thức để chép vào.")
    ] = "imported",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ đọc và báo cáo, không chép, không xây chỉ mục.")
    ] = False,
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Chép tệp nhưng chưa xây lại chỉ mục.")
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="Sửa tiêu đề (một tệp).")] = None,
    number: Annotated[str | None, typer.Option("--number", help="Sửa số hiệu (một tệp).")] = None,
    doc_type: Annotated[
        str | None, typer.Option("--type", help="Loại: decree, circular, decision, …")
    ] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", help="Cơ quan ban hành.")] = None,
    issued: Annotated[str | None, typer.Option("--issued", help="Ngày ban hành.")] = None,
    effective: Annotated[str | None, typer.Option("--effective", help="Ngày hiệu lực.")] = None,
) -> None:
    """Thêm tài liệu (tệp hoặc thư mục) vào kho tri thức, bỏ qua bản trùng, rồi cập nhật chỉ mục."""
    state = state_of(ctx)
    settings = settings_of(ctx)
    from scripts.importing import run_add

    values = {
        "title": title, "number": number, "doc_type": doc_type, "issuer": issuer,
        "issued": issued, "effective": effective,
    }  # fmt: skip
    code = run_add(
        state.console, settings, paths, dest=dest, dry_run=dry_run, build=not no_index,
        values={key: value for key, value in values.items() if value},
    )  # fmt: skip
    if code:
        raise typer.Exit(code=code)
