"""One runtime thread for query embedding and FAISS search (measured in scripts/bench.py)."""

from __future__ import annotations


def limit_search_threads() -> None:
    """Runs query embedding and FAISS search on one thread each.

    A query is one short text and one vector, so intra-op parallelism buys little; on a
    2-core server that also runs the bot and other work, it mostly adds contention. Measured
    in scripts/bench.py under load: query embedding p95 777 ms with 2 torch threads vs 29 ms
    with 1; a 100k-chunk FAISS search 67 ms with 2 OpenMP threads vs 13 ms with 1.

    torch is only limited when something has imported it (a torch or OpenVINO model): the
    ONNX path never loads it, and importing it here would cost seconds of cold start.
    Call this again after loading a model through sentence-transformers.
    """
    import sys

    import faiss

    faiss.omp_set_num_threads(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
