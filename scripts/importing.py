"""`khuyencong add`: bulk import with a progress bar, a summary table and one build.

The file work is `index.uploads.import_paths` (shared with the Telegram upload flow); this
module only shows it: a progress bar while files are read, one while the index is built,
then a table with one row per file (added, duplicate, failed with the reason) and the
chunk count each added document got.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scripts.index_cli import print_failed

if TYPE_CHECKING:
    from index.build import BuildReport
    from index.settings import Settings
    from index.uploads import ImportItem

logger = logging.getLogger(__name__)

_OUTCOME_LABELS = {"added": "✅ đã thêm", "duplicate": "↩️ trùng, bỏ qua", "failed": "❌ lỗi"}


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield progress


#: Longest title shown in the summary table.
TITLE_CHARS = 70


def _found(item: ImportItem) -> str:
    from bot.answer_views import found_metadata_lines

    if item.meta is None:
        return ""
    meta = item.meta
    values = {"doc_type": meta.doc_type, "number": meta.number, "issued": meta.issued,
              "effective": meta.effective}  # fmt: skip
    lines = found_metadata_lines({k: v for k, v in values.items() if v})
    title = meta.title if len(meta.title) <= TITLE_CHARS else meta.title[:TITLE_CHARS] + "…"
    # "Loại văn bản: Thông tư" -> "Thông tư": the column header says what the values are.
    return "\n".join([title, " · ".join(line.split(": ", 1)[-1] for line in lines)]).strip()


def summary_table(
    items: list[ImportItem], *, chunks: Mapping[str, int], title: str
) -> Table:
    """One row per file: what happened, why, where it went, what was found, its chunks."""
    table = Table(title=title)
    for column in ("Tệp", "Kết quả", "Chi tiết", "Thông tin đọc được", "Số đoạn"):
        table.add_column(column, overflow="fold")
    for item in items:
        detail = item.reason if item.outcome != "added" else item.doc_id
        count = chunks.get(item.doc_id)
        table.add_row(
            item.source.name,
            _OUTCOME_LABELS[item.outcome],
            detail,
            _found(item),
            "" if count is None or item.outcome != "added" else str(count),
        )
    return table


def _chunk_counts(settings: Settings) -> dict[str, int]:
    from index import store

    manifest = store.current_manifest(settings) or {}
    return {
        doc_id: int(info.get("chunks", 0))
        for doc_id, info in manifest.get("documents", {}).items()
    }


def run_add(
    console: Console,
    settings: Settings,
    paths: list[Path],
    *,
    dest: str,
    dry_run: bool,
    build: bool,
    values: Mapping[str, Any],
) -> int:
    """Imports files and folders, builds the index once, prints the summary.

    Returns:
        The exit code: 0 when every file was added or already present, 1 when one failed
        (the others are still added and indexed).
    """
    from index.build import build_index
    from index.errors import KhuyenCongError
    from index.uploads import import_paths

    if values.get("title") or values.get("number"):
        if len(paths) != 1 or paths[0].is_dir():
            console.print("[bold red]❌ --title và --number chỉ dùng khi thêm đúng một tệp.[/]")
            return 2
    started = time.perf_counter()
    with _progress(console) as progress:
        task = progress.add_task("Đang đọc tài liệu…", total=None)

        def on_file(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total or None, description=f"Đọc {name}")

        items, skipped = import_paths(
            settings, paths, dest=dest, values=values, dry_run=dry_run, progress=on_file
        )
    report: BuildReport | None = None
    added = [item for item in items if item.outcome == "added"]
    if build and not dry_run and added:
        with _progress(console) as progress:
            task = progress.add_task("Đang cập nhật chỉ mục…", total=None)

            def on_build(done: int, total: int, message: str) -> None:
                progress.update(task, completed=done, total=total or None, description=message)

            try:
                report = build_index(settings, progress=on_build)
            except KhuyenCongError as exc:
                console.print(f"[bold red]❌ {exc}[/]")
                return 1
    seconds = time.perf_counter() - started
    if not console.is_terminal:
        console.width = 200  # a log file gets readable rows, not an 80-column squeeze
    title = "Kết quả (chạy thử, chưa chép tệp nào)" if dry_run else "Kết quả thêm tài liệu"
    console.print(summary_table(items, chunks=_chunk_counts(settings), title=title))
    counts = {outcome: sum(1 for i in items if i.outcome == outcome) for outcome in _OUTCOME_LABELS}
    console.print(
        f"Thêm {counts['added']} · trùng {counts['duplicate']} · lỗi {counts['failed']}"
        + (f" · bỏ qua {len(skipped)} tệp không phải tài liệu" if skipped else "")
        + (f" · {report.chunks} đoạn trong chỉ mục" if report else "")
        + f" · {seconds:.1f} giây"
    )
    if report is not None and report.failed:
        print_failed(console, report.failed)
    if build and not dry_run and not added:
        console.print("Không có tài liệu mới: chỉ mục giữ nguyên.")
    return 1 if counts["failed"] else 0
