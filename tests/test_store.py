from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from paperbot.embedding import WordLlamaEmbedder
from paperbot.store import Store, StoreError


class CountingEmbedder(WordLlamaEmbedder):
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed(self, texts):
        self.embedded += len(texts)
        return super().embed(texts)


def test_sync_embeds_only_what_changed(tmp_path: Path, entries):
    embedder = CountingEmbedder()
    store = Store(tmp_path / "store", embedder)
    first = store.sync(entries)
    assert (first.added, first.updated, first.removed) == (23, 0, 0)
    assert embedder.embedded == 23

    again = Store(tmp_path / "store", embedder).sync(entries)
    assert not again.changed and again.unchanged == 23
    assert embedder.embedded == 23

    edited = dataclasses.replace(entries[0], summary=entries[0].summary + " Extra sentence.")
    changed = [edited, *entries[1:-1]]
    report = Store(tmp_path / "store", embedder).sync(changed)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 21)
    assert embedder.embedded == 24
    assert Store(tmp_path / "store", embedder).count() == 22


def test_store_records_the_embedding_model_and_refuses_another(tmp_path: Path, entries):
    Store(tmp_path / "store", WordLlamaEmbedder()).sync(entries)

    class OtherEmbedder(WordLlamaEmbedder):
        def __post_init__(self) -> None:
            self.name = "other/model"

    with pytest.raises(StoreError, match=r"built with embedding model wordllama.*index --rebuild"):
        Store(tmp_path / "store", OtherEmbedder()).sync(entries)
    rebuilt = Store(tmp_path / "store", OtherEmbedder()).rebuild(entries)
    assert rebuilt.added == 23


def test_nearest_ranks_by_cosine_similarity(tmp_path: Path, entries):
    embedder = WordLlamaEmbedder()
    store = Store(tmp_path / "store", embedder)
    store.sync(entries)
    target = next(entry for entry in entries if entry.id == "cdpruner")
    (best_id, similarity), *_ = store.nearest(embedder.embed([target.search_text()])[0], 3)
    assert best_id == "cdpruner"
    assert similarity == pytest.approx(1.0, abs=1e-3)


def test_store_path_under_a_file_is_a_clear_error(tmp_path: Path, entries):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the store directory"):
        Store(blocker / "store", WordLlamaEmbedder()).sync(entries)


def test_corrupt_store_is_detected_and_rebuild_recovers(tmp_path: Path, entries):
    path = tmp_path / "store"
    Store(path, WordLlamaEmbedder()).sync(entries)
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    (path / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="index --rebuild"):
        Store(path, WordLlamaEmbedder()).sync(entries)
    report = Store(path, WordLlamaEmbedder()).rebuild(entries)
    assert report.added == 23
    assert (tmp_path / "store.damaged").is_dir()
