"""The vector store: catalog entries embedded into a Chroma collection, kept in sync by hash."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from paperbot.catalog import Entry
from paperbot.embedding import Embedder

if TYPE_CHECKING:
    import numpy as np

COLLECTION = "paperbot_entries"
BATCH = 1024
LOCK_WAIT_SECONDS = 600
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
    """A Chroma collection of entry embeddings, opened lazily (importing chromadb is slow).

    The collection lives in a local ``PersistentClient`` directory, or on a Chroma server when
    ``url`` is given. Writers take a lock file so that two ``paperbot index`` runs never
    interleave; a second one waits for the first.
    """

    def __init__(
        self,
        path: Path,
        embedder: Embedder,
        url: str | None = None,
        lock_path: Path | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.embedder = embedder
        self.url = url
        # Beside the store, not in it: rebuilding may move the store directory aside.
        self.lock_path = lock_path or path.with_name(f"{path.name}.lock")
        self.notify = notify
        self._collection: Any = None

    @property
    def location(self) -> str:
        return f"the Chroma server at {self.url}" if self.url else f"the store at {self.path}"

    def sync(self, entries: Sequence[Entry], progress: Progress | None = None) -> SyncReport:
        """Embed new and changed entries, delete removed ones; unchanged ones are not touched."""
        if self.up_to_date(entries):
            return SyncReport(unchanged=len(entries))
        with self._writing():
            return self._sync(entries, catalog_fingerprint(entries), progress)

    def _sync(
        self, entries: Sequence[Entry], fingerprint: str, progress: Progress | None
    ) -> SyncReport:
        collection = self._open()
        stored = self._stored_hashes()
        wanted = {entry.id: entry for entry in entries}
        to_embed = [e for e in entries if stored.get(e.id) != e.content_hash()]
        removed = [entry_id for entry_id in stored if entry_id not in wanted]
        if progress and to_embed:
            progress(0, len(to_embed))
        try:
            for start in range(0, len(removed), BATCH):
                collection.delete(ids=removed[start : start + BATCH])
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
            # Written last: a sync killed before this point is simply redone next time.
            self._set_metadata(catalog=fingerprint)
        except Exception as error:
            raise StoreError(f"cannot write {self.location}: {_first_line(error)}") from None
        added = sum(1 for entry in to_embed if entry.id not in stored)
        return SyncReport(
            added=added,
            updated=len(to_embed) - added,
            removed=len(removed),
            unchanged=len(entries) - len(to_embed),
        )

    def rebuild(self, entries: Sequence[Entry], progress: Progress | None = None) -> SyncReport:
        """Start the collection afresh; a local store too damaged to open is moved aside."""
        if not self.url:
            self._ensure_directory()
        with self._writing():
            try:
                client = self._client()
                if COLLECTION in {c.name for c in client.list_collections()}:
                    client.delete_collection(COLLECTION)
            except StoreError:
                if self.url:
                    raise
                self._discard_damaged_store()
            except Exception:
                if self.url:
                    raise StoreError(f"cannot reset {self.location}; {REBUILD_HINT}") from None
                self._discard_damaged_store()
            self._collection = None
            return self._sync(entries, catalog_fingerprint(entries), progress)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the writer's lock; wait (and say so) while another paperbot holds it."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.lock_path, "a+")  # noqa: SIM115 - held for the whole block
        except OSError as error:
            raise StoreError(f"cannot lock {self.location}: {error.strerror}") from None
        try:
            self._acquire(handle)
            # What the other writer did is not in this process's view of the collection yet.
            self._collection = None
            yield
        finally:
            handle.close()

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
                f"cannot search {self.location}: {_first_line(error)}; {REBUILD_HINT}"
            ) from None
        return [
            (entry_id, 1.0 - float(distance))
            for entry_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def count(self) -> int:
        return self._open().count()

    def up_to_date(self, entries: Sequence[Entry]) -> bool:
        return self._open().metadata.get("catalog") == catalog_fingerprint(entries)

    def _acquire(self, handle: IO[str]) -> None:
        deadline = None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if deadline is None:
                    deadline = time.monotonic() + LOCK_WAIT_SECONDS
                    if self.notify:
                        self.notify(f"another paperbot is updating {self.location}; waiting")
                elif time.monotonic() > deadline:
                    raise StoreError(
                        f"another paperbot has been updating {self.location} for over "
                        f"{LOCK_WAIT_SECONDS} s; try again when it has finished"
                    ) from None
                time.sleep(0.2)

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
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        if not self.url:
            self._ensure_directory()
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        try:
            if self.url:
                parsed = urlsplit(self.url)
                client = chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
                client.heartbeat()
                return client
            return chromadb.PersistentClient(path=str(self.path), settings=settings)
        except Exception as error:
            if self.url:
                raise StoreError(
                    f"cannot reach the Chroma server at {self.url} ({_first_line(error)}); "
                    "start it with 'chroma run --path DIR --port PORT' or fix chroma_url"
                ) from None
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
                f"{self.location} cannot be opened ({_first_line(error)}); {REBUILD_HINT}"
            ) from None
        metadata = collection.metadata or {}
        found = (metadata.get("embedding_model"), metadata.get("embedding_dim"))
        if found != (identity["embedding_model"], identity["embedding_dim"]):
            raise StoreError(
                f"{self.location} was built with embedding model {found[0]} "
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
