"""Linkage learning over categorical genes: the linkage tree of GOMEA (Thierens and Bosman).

The mutual information of every pair of genes is estimated from their joint frequencies in a population;
genes are then merged bottom-up (UPGMA: the two clusters of highest average mutual information first, ties to
the lowest gene indices). The family of subsets (FOS) is every single gene and every merged cluster except the
root (the whole genome). Deterministic for a given population; genes with one option are left out.
"""

from __future__ import annotations

import numpy as np


def mutual_information(genomes: np.ndarray) -> np.ndarray:
    """The genes × genes matrix of mutual information (nats) of a population, one genome per row."""
    length = genomes.shape[1]
    information = np.zeros((length, length))
    for i in range(length):
        for j in range(i + 1, length):
            pairs = genomes[:, i].astype(np.int64) * (int(genomes[:, j].max()) + 1) + genomes[:, j]
            joint = _entropy(pairs) - _entropy(genomes[:, i]) - _entropy(genomes[:, j])
            information[i, j] = information[j, i] = max(0.0, -joint)
    return information


def _entropy(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    frequencies = counts / len(values)
    return -float(np.sum(frequencies * np.log(frequencies)))


def linkage_tree(genomes: list[list[int]], cardinalities: list[int]) -> list[tuple[int, ...]]:
    """The linkage tree's FOS over the genes with more than one option: singletons first, then the merged
    clusters in order of merging (the root left out)."""
    genes = [i for i, size in enumerate(cardinalities) if size > 1]
    if not genes:
        return []
    information = mutual_information(np.array(genomes, dtype=np.int64)[:, genes]) if len(genomes) > 1 else None
    clusters = [[k] for k in range(len(genes))]
    fos = [(genes[k],) for k in range(len(genes))]
    while len(clusters) > 2:
        best, pair = -1.0, (0, 1)
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                linked = 0.0 if information is None else float(information[np.ix_(clusters[a], clusters[b])].mean())
                if linked > best + 1e-12:
                    best, pair = linked, (a, b)
        merged = clusters[pair[0]] + clusters[pair[1]]
        clusters = [c for k, c in enumerate(clusters) if k not in pair] + [merged]
        fos.append(tuple(sorted(genes[k] for k in merged)))
    return fos
