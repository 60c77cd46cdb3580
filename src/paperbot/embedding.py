"""Text embeddings that work offline: the weights come from an installed PyPI package."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded."""


class Embedder(Protocol):
    """What the store needs from an embedding model."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors, one row per text."""
        ...


@dataclass
class WordLlamaEmbedder:
    """WordLlama ``l2_supercat`` (256 dimensions): numpy only, weights inside the wheel."""

    dimension: int = 256
    name: str = field(init=False)
    _model: object | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.name = f"wordllama/l2_supercat_{self.dimension}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._load().embed(list(texts), norm=True)

    def _load(self):
        if self._model is None:
            root = logging.getLogger()
            handlers, level = list(root.handlers), root.level
            try:
                import wordllama
                from wordllama import WordLlama
            except ImportError as error:
                raise EmbeddingError(f"wordllama is not installed ({error})") from None
            finally:
                # wordllama calls logging.basicConfig(level=INFO) on import, which would let
                # every library's INFO lines (httpx requests, say) through to stderr.
                root.handlers[:], root.level = handlers, level
            # WordLlama's own loader looks for weights in a user cache; they ship in the package.
            package_dir = Path(wordllama.__file__).parent
            try:
                self._model = WordLlama.load(
                    config="l2_supercat",
                    dim=self.dimension,
                    cache_dir=package_dir,
                    disable_download=True,
                )
            except Exception as error:
                raise EmbeddingError(
                    f"cannot load the WordLlama weights from {package_dir}: {error}; "
                    "reinstall with 'pip install --force-reinstall wordllama'"
                ) from None
        return self._model


EMBEDDERS = {"wordllama": WordLlamaEmbedder}


def make_embedder(name: str = "wordllama") -> Embedder:
    try:
        return EMBEDDERS[name]()
    except KeyError:
        known = ", ".join(sorted(EMBEDDERS))
        raise EmbeddingError(f"unknown embedding model '{name}' (known: {known})") from None
