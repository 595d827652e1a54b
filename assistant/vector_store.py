"""Where the index keeps its vectors: a small protocol, a FAISS store and a plain numpy one.

Retrieval scores every row exactly (one matrix product, see docs/benchmarks.md for when an
approximate index would pay), so a store's job is to give cosines for all rows or for given rows,
and the rows' vectors themselves (the scope decision compares the index's own texts with each
other). Vectors are L2-normalised float32, so the inner product is the cosine.

This is the only module that imports faiss. A new backend implements VectorStore here and is
read and written by index.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorStore(Protocol):
    @property
    def dimension(self) -> int: ...

    def __len__(self) -> int: ...

    def score_all(self, queries: np.ndarray) -> np.ndarray:
        """Cosine of the query to every row, in row order: shape (n,) for one query of shape (d,),
        (m, n) for m queries of shape (m, d)."""
        ...

    def score_rows(self, queries: np.ndarray, rows) -> np.ndarray:
        """Cosines to the given rows only, in the order given (shape (len(rows),) for one query)."""
        ...

    def vectors(self, rows) -> np.ndarray:
        """The given rows' vectors, shape (len(rows), d); read-only."""
        ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows for one query and their cosines, best first."""
        ...


class _MatrixScored:
    """Scoring over ``self._matrix`` (rows of vectors), shared by the stores below."""

    _matrix: np.ndarray

    def score_all(self, queries: np.ndarray) -> np.ndarray:
        return _score(self._matrix, queries)

    def score_rows(self, queries: np.ndarray, rows) -> np.ndarray:
        return _score(self._matrix[rows], queries)

    def vectors(self, rows) -> np.ndarray:
        return self._matrix[rows]


class NumpyStore(_MatrixScored):
    """Vectors held as one numpy matrix (the sentence vectors, loaded from a .npy file)."""

    def __init__(self, matrix: np.ndarray) -> None:
        if matrix.ndim != 2:
            raise ValueError(f"a vector store needs a 2-D matrix, not shape {matrix.shape}")
        self._matrix = matrix

    @classmethod
    def read(cls, path: Path) -> NumpyStore:
        return cls(np.load(path))

    @staticmethod
    def write(path: Path, vectors: np.ndarray) -> None:
        np.save(path, vectors)

    @property
    def dimension(self) -> int:
        return int(self._matrix.shape[1])

    def __len__(self) -> int:
        return int(self._matrix.shape[0])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return _top_k(self.score_all(query), k)


class FaissFlatStore(_MatrixScored):
    """Passage vectors in a FAISS flat inner-product index (the vectors.faiss file).

    Scored through a read-only numpy view of FAISS's own buffer: no copy, and the same numbers as
    the matrix product over a numpy array.
    """

    def __init__(self, index) -> None:
        self._index = index
        self._matrix = _faiss_matrix(index)

    @classmethod
    def build(cls, vectors: np.ndarray) -> FaissFlatStore:
        import faiss

        index = faiss.IndexFlatIP(int(vectors.shape[1]))
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def read(cls, path: Path) -> FaissFlatStore:
        """Raises ValueError when the file is not a FAISS index."""
        import faiss

        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as exc:
            raise ValueError(str(exc)) from exc

    @staticmethod
    def write(path: Path, vectors: np.ndarray) -> None:
        import faiss

        # Written by Python, not faiss.write_index: faiss only prints a failed close (a full disk)
        # and returns, leaving a truncated file; Python's write raises OSError(ENOSPC).
        data = faiss.serialize_index(FaissFlatStore.build(vectors)._index)
        with open(path, "wb") as handle:
            handle.write(data.tobytes())

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, rows = self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)
        return rows[0].astype(np.int64), scores[0]


def _score(matrix: np.ndarray, queries: np.ndarray) -> np.ndarray:
    # One query: matrix @ q (one BLAS gemv); several: q @ matrix.T, one row of cosines per query.
    return matrix @ queries if queries.ndim == 1 else queries @ matrix.T


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, scores.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=scores.dtype)
    rows = np.argpartition(-scores, k - 1)[:k]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return rows.astype(np.int64), scores[rows]


def _faiss_matrix(index) -> np.ndarray:
    """The vectors of a FAISS flat index as a read-only numpy view (no copy); other index types
    are reconstructed into a matrix once."""
    import faiss

    flat = faiss.downcast_index(index)
    if hasattr(flat, "get_xb"):
        matrix = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
        matrix.flags.writeable = False
        return matrix
    return np.vstack([index.reconstruct(i) for i in range(index.ntotal)]).astype(np.float32)
