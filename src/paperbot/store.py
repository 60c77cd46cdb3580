"""The vector store: catalog entries embedded into a Chroma collection, kept in sync by hash."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperbot.catalog import Entry
from paperbot.embedding import Embedder

if TYPE_CHECKING:
    import numpy as np

COLLECTION = "paperbot_entries"
BATCH = 256
REBUILD_HINT = "run 'paperbot index --rebuild'"

Progress = Callable[[int, int], None]


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message says how to fix it."""


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def catalog_fingerprint(entries: Sequence[Entry]) -> str:
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(f"{entry.id}:{entry.content_hash()}\n".encode())
    return digest.hexdigest()[:16]


class Store:
    """A Chroma collection of entry embeddings, opened lazily (importing chromadb is slow)."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        self.path = path
        self.embedder = embedder
        self._collection: Any = None

    def sync(self, entries: Sequence[Entry], progress: Progress | None = None) -> SyncReport:
        """Embed new and changed entries, delete removed ones; unchanged ones are not touched."""
        collection = self._open()
        fingerprint = catalog_fingerprint(entries)
        if collection.metadata.get("catalog") == fingerprint:
            return SyncReport(unchanged=len(entries))
        stored = self._stored_hashes()
        wanted = {entry.id: entry for entry in entries}
        to_embed = [e for e in entries if stored.get(e.id) != e.content_hash()]
        removed = [entry_id for entry_id in stored if entry_id not in wanted]
        if progress and to_embed:
            progress(0, len(to_embed))
        try:
            if removed:
                collection.delete(ids=removed)
            for start in range(0, len(to_embed), BATCH):
                batch = to_embed[start : start + BATCH]
                vectors = self.embedder.embed([entry.search_text() for entry in batch])
                collection.upsert(
                    ids=[entry.id for entry in batch],
                    embeddings=vectors,
                    metadatas=[{"hash": entry.content_hash()} for entry in batch],
                )
                if progress:
                    progress(start + len(batch), len(to_embed))
            self._set_metadata(catalog=fingerprint)
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"cannot write the store at {self.path}: {error}") from None
        added = sum(1 for entry in to_embed if entry.id not in stored)
        return SyncReport(
            added=added,
            updated=len(to_embed) - added,
            removed=len(removed),
            unchanged=len(entries) - len(to_embed),
        )

    def rebuild(self, entries: Sequence[Entry], progress: Progress | None = None) -> SyncReport:
        """Start the collection afresh; a store too damaged to open is moved aside first."""
        self._ensure_directory()
        try:
            client = self._client()
            if COLLECTION in {c.name for c in client.list_collections()}:
                client.delete_collection(COLLECTION)
        except Exception:
            self._discard_damaged_store()
        self._collection = None
        return self.sync(entries, progress)

    def nearest(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Entry ids with their cosine similarity to ``vector``, most similar first."""
        collection = self._open()
        total = collection.count()
        if total == 0:
            return []
        try:
            result = collection.query(
                query_embeddings=[vector], n_results=min(limit, total), include=["distances"]
            )
        except Exception as error:
            raise StoreError(
                f"cannot search the store at {self.path}: {_first_line(error)}; {REBUILD_HINT}"
            ) from None
        return [
            (entry_id, 1.0 - float(distance))
            for entry_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def count(self) -> int:
        return self._open().count()

    def _stored_hashes(self) -> dict[str, str]:
        stored = self._collection.get(include=["metadatas"])
        return {
            entry_id: (metadata or {}).get("hash", "")
            for entry_id, metadata in zip(stored["ids"], stored["metadatas"], strict=True)
        }

    def _set_metadata(self, **values: str) -> None:
        metadata = {**self._collection.metadata, **values}
        metadata.pop("hnsw:space", None)
        self._collection.modify(metadata=metadata)

    def _ensure_directory(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot create the store directory {self.path}: {error.strerror}; "
                "choose another with --store DIR or PAPERBOT_STORE"
            ) from None
        if not os.access(self.path, os.W_OK):
            raise StoreError(
                f"the store directory {self.path} is not writable; "
                "choose another with --store DIR or PAPERBOT_STORE"
            )

    def _client(self):
        self._ensure_directory()
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings

        try:
            return chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False)
            )
        except Exception as error:
            raise StoreError(
                f"the store at {self.path} cannot be opened ({_first_line(error)}); {REBUILD_HINT}"
            ) from None

    def _open(self):
        if self._collection is not None:
            return self._collection
        client = self._client()
        identity = {"embedding_model": self.embedder.name, "embedding_dim": self.embedder.dimension}
        try:
            collection = client.get_or_create_collection(
                COLLECTION,
                embedding_function=None,
                metadata=identity,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as error:
            raise StoreError(
                f"the store at {self.path} cannot be opened ({_first_line(error)}); {REBUILD_HINT}"
            ) from None
        metadata = collection.metadata or {}
        found = (metadata.get("embedding_model"), metadata.get("embedding_dim"))
        if found != (identity["embedding_model"], identity["embedding_dim"]):
            raise StoreError(
                f"the store at {self.path} was built with embedding model {found[0]} "
                f"({found[1]} dimensions) but paperbot now uses {self.embedder.name} "
                f"({self.embedder.dimension} dimensions); {REBUILD_HINT}"
            )
        self._collection = collection
        return collection

    def _discard_damaged_store(self) -> None:
        """Move a damaged store aside rather than delete it: it may be worth inspecting."""
        if not self.path.exists():
            return
        from chromadb.api.client import SharedSystemClient

        # Chroma caches one system per path; it must not keep serving the moved files.
        SharedSystemClient.clear_system_cache()
        aside = self.path.with_name(f"{self.path.name}.damaged")
        if aside.exists():
            shutil.rmtree(aside)
        self.path.rename(aside)
        self.path.mkdir(parents=True)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]
