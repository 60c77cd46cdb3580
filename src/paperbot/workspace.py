"""The loaded pieces one paperbot run works with: settings, catalog, store and retriever.

Each piece loads on first use, because importing chromadb and loading embeddings costs about a
second and commands such as ``catalog`` need neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from paperbot import catalog
from paperbot.catalog import Entry
from paperbot.config import Settings
from paperbot.embedding import make_embedder
from paperbot.retrieval import Hit, Retriever
from paperbot.store import Progress, Store, SyncReport


@dataclass
class Workspace:
    settings: Settings
    progress: Progress | None = None

    @property
    def imports_dir(self) -> Path:
        return self.settings.data_dir / "catalogs"

    @cached_property
    def entries(self) -> list[Entry]:
        return catalog.load_library(self.imports_dir, self.settings.catalog)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.store, make_embedder())

    @cached_property
    def retriever(self) -> Retriever:
        self.sync()
        return Retriever(self.entries, self.store)

    def sync(self, rebuild: bool = False) -> SyncReport:
        if rebuild:
            return self.store.rebuild(self.entries, self.progress)
        return self.store.sync(self.entries, self.progress)

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        return self.retriever.search(query, k or self.settings.k)
