"""Exact and near-duplicate examples, found with MinHash + LSH instead of comparing every pair.

Two examples are near duplicates when their sets of character 5-grams ("shingles") overlap a lot:
Jaccard similarity |A ∩ B| / |A ∪ B| ≥ ``threshold``. Comparing all n² pairs is hopeless for a big
file, so each example gets a MinHash *signature* (the minimum of 64 hash functions over its
shingles; two signatures agree in a position with probability equal to the Jaccard similarity), and
locality-sensitive hashing puts examples whose signatures agree on a whole band of 4 positions into
the same bucket. Only examples sharing a bucket are compared. Hashes are seeded integers, never
Python's ``hash()``, so results are the same in every process.

>>> recs = [{"messages": [{"role": "user", "content": t}]} for t in
...         ["What is the capital of France?", "what is the capital of France", "Name a prime number."]]
>>> find_duplicates(recs).groups
[[0, 1]]
"""

import re
from dataclasses import dataclass

import numpy as np

from ftlab._report import plural
from ftlab.chat.messages import content_text

SHINGLE = 5
NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.5 similarity become candidates
_MASK61 = np.uint64((1 << 61) - 1)


def normalize(text):
    """Lower case, punctuation removed, whitespace collapsed: what "the same text" means here."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def example_text(record, roles=("user", "assistant")):
    """The normalised text of an example's messages with the given roles (system prompt left out)."""
    if isinstance(record, dict) and isinstance(record.get("messages"), list):
        msgs = record["messages"]
    elif isinstance(record, dict) and isinstance(record.get("input"), dict):  # preference data
        msgs = list(record["input"].get("messages") or []) + list(record.get("preferred_output") or [])
    else:
        return ""
    return normalize(" \n ".join(content_text(m.get("content")) for m in msgs
                                 if isinstance(m, dict) and m.get("role") in roles))


def _shingle_hashes(text):
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8).astype(np.uint64)
    if len(data) < SHINGLE:
        data = np.concatenate([data, np.zeros(SHINGLE - len(data), dtype=np.uint64)])
    windows = np.lib.stride_tricks.sliding_window_view(data, SHINGLE)
    powers = np.uint64(257) ** np.arange(SHINGLE, dtype=np.uint64)
    return np.unique(windows @ powers)  # polynomial hash of each 5-byte window (wraps mod 2^64)


def minhash_signatures(texts, *, num_perm=NUM_PERM, seed=0, progress=False):
    """An (n, num_perm) uint64 array of MinHash signatures of ``texts``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 61, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 1 << 61, size=num_perm, dtype=np.uint64)
    out = np.empty((len(texts), num_perm), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, text in enumerate(_progress(texts, progress)):
            h = _shingle_hashes(text)[:, None]
            out[i] = ((h * a + b) & _MASK61).min(axis=0)  # a·h + b in the wrapping uint64 ring
    return out


@dataclass
class Duplicates:
    """Groups of duplicate examples (indices into the records, ascending) and how they were found."""

    groups: list  # each a sorted list of ≥ 2 indices; groups sorted by their first index
    kinds: list  # "exact" or "near" for each group
    group_of: np.ndarray  # group number of every example (-1 when it has no duplicate)
    texts: list
    lines: list

    @property
    def n_redundant(self):
        """Examples you could drop and keep one of each group."""
        return sum(len(g) - 1 for g in self.groups)

    def to_frame(self):
        import pandas as pd

        rows = [{"group": k, "kind": kind, "index": i, "line": self.lines[i], "text": self.texts[i][:80]}
                for k, (g, kind) in enumerate(zip(self.groups, self.kinds)) for i in g]
        return pd.DataFrame(rows, columns=["group", "kind", "index", "line", "text"])

    def __repr__(self):
        n_exact = sum(k == "exact" for k in self.kinds)
        return (f"<Duplicates: {plural(len(self.groups), 'group')} ({n_exact} exact, {len(self.groups) - n_exact} "
                f"near), {self.n_redundant} redundant examples>")


class _UnionFind:
    def __init__(self, n):
        self.parent = np.arange(n)

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i, j):
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def find_duplicates(records, *, threshold=0.8, roles=("user", "assistant"), seed=0, progress=None):
    """Group exact and near duplicates (estimated Jaccard ≥ ``threshold`` on character 5-grams).

    Exact means equal after :func:`normalize`; near means similar enough but not equal. Returns
    :class:`Duplicates`. Runs in about linear time: no pair is compared unless LSH pairs them up.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    records = list(records) if not isinstance(records, list) else records
    lines = list(getattr(records, "lines", range(1, len(records) + 1)))
    texts = [example_text(r, roles) for r in records]
    n = len(texts)
    uf = _UnionFind(n)
    first_with_text = {}
    for i, t in enumerate(texts):  # exact duplicates: a dict, no hashing of strings needed
        if not t:
            continue  # nothing to compare (not a chat example, or no text)
        if t in first_with_text:
            uf.union(first_with_text[t], i)
        else:
            first_with_text[t] = i
    exact_root = np.array([uf.find(i) for i in range(n)], dtype=np.int64)
    uniques = sorted(set(first_with_text.values()))
    if progress is None:
        progress = len(uniques) > 20_000
    sigs = minhash_signatures([texts[i] for i in uniques], seed=seed, progress=progress)
    rows = NUM_PERM // BANDS
    for band in range(BANDS):
        keys = sigs[:, band * rows:(band + 1) * rows]
        buckets = {}
        for k, key in enumerate(map(bytes, keys)):
            head = buckets.setdefault(key, k)
            if head != k and (sigs[head] == sigs[k]).mean() >= threshold:
                uf.union(uniques[head], uniques[k])  # compared with the bucket's first only: linear
    roots = np.array([uf.find(i) for i in range(n)], dtype=np.int64)
    members = {}
    for i, r in enumerate(roots):
        members.setdefault(int(r), []).append(i)
    groups = sorted((g for g in members.values() if len(g) > 1), key=lambda g: g[0])
    kinds = ["exact" if len({int(exact_root[i]) for i in g}) == 1 else "near" for g in groups]
    group_of = np.full(n, -1, dtype=np.int64)
    for k, g in enumerate(groups):
        group_of[g] = k
    return Duplicates(groups, kinds, group_of, texts, lines)


def _progress(items, enabled):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc="MinHash signatures")
