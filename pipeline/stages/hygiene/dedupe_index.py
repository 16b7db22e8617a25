"""dedupe_index: near-duplicate clusters kept up to date in a persisted index.

`dedupe.duplicate_clusters` recomputes every cluster of a corpus. `DuplicateIndex` keeps, between
runs, each article's signature, its cluster and its LSH band keys, so a run that adds, edits or
removes a few articles recomputes only the clusters they touch.

Why the result is `duplicate_clusters`'s for the whole corpus: whether two articles are joined
depends on the two alone (same text, or a shared LSH band and an estimated similarity at the
threshold), so clusters are the connected components of a graph over the articles. An update
takes the old components of the articles that leave (removed or changed) and the components of
every unchanged article joined to an entering (new or changed) one, with the entering articles:
no edge leaves that set, so its components, computed from scratch, are the corpus's, and every
other component (and its DuplicateInfo) is as it was.
"""
from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from pathlib import Path

import numpy as np

from pipeline.core.config import PipelineConfig
from pipeline.core.location import read_file, write_file
from pipeline.stages.hygiene.dedupe import (
    LSH_WEIGHTS,
    MINHASH_SCHEME,
    MINHASH_SEED,
    DuplicateInfo,
    Joins,
    Member,
    cluster_infos,
)

FORMAT = 1
_METADATA_KEY = b"duplicate_index"
# affine32 MinHash values are 32-bit (datasketch keeps them as uint32): half the memory of uint64.
_SIGNATURE_MAX = 0xFFFFFFFF
_MIX = np.uint64(0x9E3779B97F4A7C15)
_CHUNK = 1 << 13  # pairs (or rows) at a time: bounds the (chunk x num_perm) temporaries to ~4 MB each
# What makes an article unchanged (its signature is a function of its text): compared as tuples,
# in C, so an update over a large corpus costs little when few articles change.
_KEY = attrgetter("article_id", "precedence", "content_sha256")
_ID = attrgetter("article_id")


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(b, r) of the MinHashLSH `duplicate_clusters` builds: b bands of r signature slots each."""
    from datasketch import MinHashLSH  # loads scipy (~1 s): see `dedupe.signature`

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    return lsh.b, lsh.r


class DuplicateIndex:
    """Signatures, clusters and LSH band keys of a corpus; `update` gives `duplicate_clusters`'s result."""

    def __init__(self, config: PipelineConfig):
        self.threshold = config.near_duplicate_min_similarity
        self.num_perm = config.minhash_permutations
        self.bands, self.rows = lsh_bands(self.threshold, self.num_perm)
        # A file built with other values holds other signatures or bands: it is rebuilt.
        self.params = {"format": FORMAT, "threshold": self.threshold, "num_perm": self.num_perm,
                       "shingle_words": config.shingle_words, "bands": self.bands, "rows": self.rows,
                       "minhash_seed": MINHASH_SEED, "minhash_scheme": MINHASH_SCHEME}
        # `estimated_similarity` of two signatures with c equal slots, for c = 0..num_perm (it is
        # the mean of num_perm booleans, so exactly c / num_perm before rounding).
        self._similarity = np.array([round(c / self.num_perm, 6) for c in range(self.num_perm + 1)])
        self._stored: set[tuple[str, tuple[str, str], str]] = set()  # `_KEY` of each article
        self._row: dict[str, int] = {}  # article_id -> row of the arrays below
        self._row_ids: list[str | None] = []  # row -> article_id (None: free row)
        self._free: list[int] = []
        self._signatures = np.zeros((0, self.num_perm), np.uint32)
        self._signed = np.zeros(0, bool)  # False: a text without words (empty signature)
        # Band index: one key per (signed article, band), sorted, with the article's row.
        self._keys = np.zeros(0, np.uint32)
        self._key_rows = np.zeros(0, np.int32)
        self._infos: dict[str, DuplicateInfo] = {}
        self._clusters: dict[str, list[str]] = {}  # cluster id -> article_ids
        self._by_text: dict[str, str] = {}  # content_sha256 -> one article with that text

    def __len__(self) -> int:
        return len(self._stored)

    @classmethod
    def load(cls, path: str | Path, config: PipelineConfig) -> DuplicateIndex:
        """The index saved at `path`; empty when the file is missing, unreadable or built with other
        parameters (the next `update` then rebuilds it)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        index = cls(config)
        try:
            table = pq.read_table(pa.BufferReader(read_file(*posixpath.split(str(path)))))
            if json.loads((table.schema.metadata or {}).get(_METADATA_KEY, b"null")) != index.params:
                return index
            index._restore(table)
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
            return cls(config)  # an index is only a cache: whatever it held is recomputed
        return index

    def save(self, path: str | Path) -> None:
        """Write the index to `path` (local or a URL) whole, so a killed run leaves the old or the new one."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        keys = sorted(self._stored)
        ids = [k[0] for k in keys]
        rows = np.array([self._row[a] for a in ids], dtype=np.int64)
        infos = [self._infos.get(a) for a in ids]
        table = pa.table({
            "article_id": pa.array(ids, pa.string()),
            "precedence_date": pa.array([k[1][0] for k in keys], pa.string()),
            "precedence_path": pa.array([k[1][1] for k in keys], pa.string()),
            "content_sha256": pa.array([k[2] for k in keys], pa.string()),
            "signed": pa.array(self._signed[rows], pa.bool_()),
            "signature": pa.FixedSizeListArray.from_arrays(pa.array(self._signatures[rows].ravel()), self.num_perm),
            "duplicate_of": pa.array([i.duplicate_of if i else None for i in infos], pa.string()),
            "cluster": pa.array([i.cluster if i else None for i in infos], pa.string()),
            "similarity": pa.array([i.similarity if i else None for i in infos], pa.float64()),
        }).replace_schema_metadata({_METADATA_KEY: json.dumps(self.params, sort_keys=True)})
        write_file(*posixpath.split(str(path)), lambda handle: pq.write_table(table, handle))

    def update(self, members: list[Member], signature_of: Callable[[str], Sequence[int]]) -> dict[str, DuplicateInfo]:
        """Bring the index to the corpus `members` (all of it) and return
        `duplicate_clusters(members, signatures, config)`.

        `signature_of(article_id)` (`dedupe.signature` of its text) is called only for new
        articles and changed ones (another precedence or content_sha256 than stored).
        """
        incoming = set(map(_KEY, members))
        leaving, entering = self._stored - incoming, incoming - self._stored
        if not leaving and not entering and len(incoming) == len(members):
            return dict(self._infos)
        position = dict(zip(map(_ID, members), range(len(members))))
        if len(position) != len(members):
            raise ValueError("duplicate article_id in members")
        arriving = [members[i] for i in sorted(position[k[0]] for k in entering)]
        signatures, signed = self._signatures_of(arriving, signature_of)  # may raise: nothing changed yet
        leaving_ids = [k[0] for k in leaving]
        touched = {aid for gone in leaving_ids for aid in self._component(gone)}
        self._remove(leaving)
        rows = self._store(arriving, signatures, signed)
        del signatures, signed  # stored: not held twice while the clusters are recomputed
        # Looked up before the arriving articles are indexed: they are touched anyway.
        for neighbour in self._neighbours(arriving, rows):
            touched.update(self._component(neighbour))
        self._index(rows)
        self._stored -= leaving
        self._stored |= entering
        touched.update(k[0] for k in entering)
        # In precedence order, ties in the order of `members`: as duplicate_clusters sorts them.
        ordered = sorted((members[position[a]] for a in touched if a in position),
                         key=lambda m: (m.precedence, position[m.article_id]))
        self._recluster(leaving_ids, ordered)
        return dict(self._infos)

    def _component(self, article_id: str) -> list[str]:
        info = self._infos.get(article_id)
        return self._clusters[info.cluster] if info else [article_id]

    def _remove(self, leaving: set[tuple[str, tuple[str, str], str]]) -> None:
        rows = []
        for aid, _, digest in leaving:
            rows.append(self._row.pop(aid))
            self._row_ids[rows[-1]] = None
            if self._by_text.get(digest) == aid:
                del self._by_text[digest]  # other holders of the text are in its component: touched
        self._free.extend(rows)
        if rows:
            gone = np.zeros(len(self._row_ids), bool)
            gone[rows] = True
            self._signed[rows] = False
            keep = ~gone[self._key_rows]
            self._keys, self._key_rows = self._keys[keep], self._key_rows[keep]

    def _signatures_of(self, entering: list[Member], signature_of: Callable[[str], Sequence[int]]
                       ) -> tuple[np.ndarray, np.ndarray]:
        signatures = np.zeros((len(entering), self.num_perm), np.uint32)
        signed = np.zeros(len(entering), bool)
        for i, m in enumerate(entering):
            values = np.asarray(signature_of(m.article_id))
            if values.size:
                if values.shape != (self.num_perm,) or values.dtype.kind not in "iu" \
                        or values.min() < 0 or values.max() > _SIGNATURE_MAX:
                    raise ValueError(f"{m.article_id}: not a {self.num_perm}-slot {MINHASH_SCHEME} MinHash signature")
                signatures[i], signed[i] = values, True
        return signatures, signed

    def _store(self, entering: list[Member], signatures: np.ndarray, signed: np.ndarray) -> np.ndarray:
        """Rows of the entering articles, their signatures stored (not yet in the band index)."""
        missing = len(entering) - len(self._free)
        if missing > 0:
            # Grow by an eighth at least: appends stay amortized without doubling the memory.
            grow = max(missing, len(self._row_ids) // 8)
            self._free.extend(range(len(self._row_ids) + grow - 1, len(self._row_ids) - 1, -1))
            self._row_ids.extend([None] * grow)
            grown = np.zeros((len(self._row_ids), self.num_perm), np.uint32)
            grown[:len(self._signatures)] = self._signatures
            self._signatures = grown
            self._signed = np.concatenate([self._signed, np.zeros(grow, bool)])
        rows = np.array([self._free.pop() for _ in entering], dtype=np.int64)
        self._signatures[rows], self._signed[rows] = signatures, signed
        for m, row in zip(entering, rows.tolist()):
            self._row[m.article_id] = row
            self._row_ids[row] = m.article_id
        return rows

    def _neighbours(self, entering: list[Member], rows: np.ndarray) -> set[str]:
        """Indexed articles joined to an entering one: the same text, or a shared band and the similarity."""
        found = {self._by_text[m.content_sha256] for m in entering if m.content_sha256 in self._by_text}
        signed = rows[self._signed[rows]]
        if len(signed) and len(self._keys):
            keys = self._band_keys(self._signatures[signed]).ravel()
            low = np.searchsorted(self._keys, keys, "left")
            high = np.searchsorted(self._keys, keys, "right")
            hits = high - low
            # Each pair once, though near copies share many bands.
            pairs = _distinct(np.repeat(np.repeat(signed, self.bands), hits) * len(self._row_ids)
                              + self._key_rows[_ranges(low, hits)])
            queries, candidates = np.divmod(pairs, len(self._row_ids))
            joined = self._joined(queries, candidates)
            found.update(self._row_ids[row] for row in _distinct(candidates[joined]).tolist())
        return found

    def _index(self, rows: np.ndarray) -> None:
        signed = rows[self._signed[rows]]
        if not len(signed):
            return  # np.insert would copy the whole index for nothing
        keys = self._band_keys(self._signatures[signed]).ravel()
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order], np.repeat(signed.astype(np.int32), self.bands)[order]
        if not len(self._keys):
            self._keys, self._key_rows = keys, owners
            return
        at = np.searchsorted(self._keys, keys)
        self._keys, self._key_rows = np.insert(self._keys, at, keys), np.insert(self._key_rows, at, owners)

    def _band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """(articles, bands) 32-bit hash of each band (slots i*r .. (i+1)*r - 1, datasketch's bands).
        Equal bands give equal keys; a key match is only a candidate (`_joined` compares the slots),
        so 32 bits do: a chance match costs one comparison, and the index half the memory of 64."""
        span = self.bands * self.rows
        out = np.empty((len(signatures), self.bands), np.uint32)
        for start in range(0, len(signatures), _CHUNK):  # in chunks: small 64-bit temporaries
            chunk = signatures[start:start + _CHUNK]
            keys = np.empty((len(chunk), self.bands), np.uint64)
            keys[:] = np.arange(1, self.bands + 1, dtype=np.uint64) * _MIX
            for slot in range(self.rows):
                keys ^= chunk[:, slot:span:self.rows]
                keys *= _MIX
                keys ^= keys >> np.uint64(29)
            out[start:start + _CHUNK] = keys >> np.uint64(32)
        return out

    def _joined(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Per pair of signed rows: whether `duplicate_clusters` joins them through LSH (an identical
        band, as datasketch compares them, and an estimated similarity at the threshold)."""
        joined = np.zeros(len(first), bool)
        span = self.bands * self.rows
        for start in range(0, len(first), _CHUNK):
            stop = start + _CHUNK
            equal = self._signatures[first[start:stop]] == self._signatures[second[start:stop]]
            same_band = equal[:, :span].reshape(len(equal), self.bands, self.rows).all(axis=2).any(axis=1)
            joined[start:stop] = same_band & (self._similarity[equal.sum(axis=1)] >= self.threshold)
        return joined

    def _recluster(self, leaving: list[str], ordered: list[Member]) -> None:
        """Replace the clusters of `leaving` and `ordered` (closed under joins, in precedence order)
        by those of `ordered`."""
        old = {self._infos[a].cluster for a in [*leaving, *map(_ID, ordered)] if a in self._infos}
        for cluster in old:
            for aid in self._clusters.pop(cluster):
                del self._infos[aid]
        joins = Joins(ordered)
        rows = np.array([self._row[m.article_id] for m in ordered], dtype=np.int64)
        # Copies of a text share its signature, hence its LSH joins, and are joined already: one
        # per text is paired (a thousand copies of an error page would otherwise give ~500,000 pairs).
        distinct = np.array(sorted(set(joins.first_with_text.values())), dtype=np.int64)
        for first, second in self._lsh_pairs(rows[distinct]):
            for i, j in zip(distinct[first].tolist(), distinct[second].tolist()):
                joins.join(i, j)
        signatures = {m.article_id: self._signatures[row] if self._signed[row] else () for m, row in zip(ordered, rows)}
        fresh = cluster_infos(joins.groups(), signatures)
        self._infos.update(fresh)
        for aid, info in fresh.items():
            self._clusters.setdefault(info.cluster, []).append(aid)
        for m in ordered:
            self._by_text.setdefault(m.content_sha256, m.article_id)

    def _lsh_pairs(self, rows: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Pairs of positions in `rows` that LSH joins, band by band; a pair is compared once."""
        signed = np.flatnonzero(self._signed[rows])
        keys = self._band_keys(self._signatures[rows[signed]])
        compared = np.zeros(0, np.int64)
        for band in range(self.bands):
            order = np.argsort(keys[:, band], kind="stable")
            first, second = _pairs_in_runs(keys[order, band])
            i, j = signed[order[first]], signed[order[second]]
            code = _distinct(np.minimum(i, j) * len(rows) + np.maximum(i, j))
            code = code[~np.isin(code, compared, assume_unique=True)]
            if not len(code):
                continue
            compared = np.sort(np.concatenate([compared, code]))
            i, j = np.divmod(code, len(rows))
            joined = self._joined(rows[i], rows[j])
            yield i[joined], j[joined]

    def _restore(self, table) -> None:
        n = table.num_rows
        signatures = table.column("signature").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        self._signatures = signatures.astype(np.uint32).reshape(n, self.num_perm)  # a copy we may write
        self._signed = table.column("signed").to_numpy().astype(bool)
        columns = table.drop_columns(["signature", "signed"]).to_pydict()
        ids, digests = columns["article_id"], columns["content_sha256"]
        self._row_ids = list(ids)
        self._row = dict(zip(ids, range(n)))
        self._stored = set(zip(ids, zip(columns["precedence_date"], columns["precedence_path"]), digests))
        self._by_text = dict(zip(digests, ids))
        for aid, duplicate_of, cluster, similarity in zip(ids, columns["duplicate_of"], columns["cluster"],
                                                          columns["similarity"]):
            if cluster is not None:
                self._infos[aid] = DuplicateInfo(duplicate_of, cluster, similarity)
                self._clusters.setdefault(cluster, []).append(aid)
        self._index(np.arange(n, dtype=np.int64))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted. Not np.unique: its hash table (numpy >= 2.3) is very slow on
    pair codes such as i * n + j, a sort is not."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of range(s, s + l) for each start s and length l."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - lengths), lengths)


def _pairs_in_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i, j), i < j, of every pair of equal values in a sorted array."""
    n = len(values)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    run_ends = np.repeat(np.r_[starts[1:], n], np.diff(np.r_[starts, n]))
    later = run_ends - np.arange(n) - 1  # equal values after each position
    first = np.repeat(np.arange(n), later)
    return first, first + 1 + _ranges(np.zeros(n, np.int64), later)
