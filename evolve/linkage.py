"""Linkage learning over categorical genes: the linkage tree of GOMEA (Thierens and Bosman).

The mutual information of every pair of genes is estimated from their joint frequencies in a population;
genes are then merged bottom-up (UPGMA: the two clusters of highest average mutual information first, ties to
the lowest indices). The family of subsets (FOS) is every single gene and every merged cluster except the
root (the whole genome). Deterministic for a given population; genes with one option are left out.
"""

from __future__ import annotations

import numpy as np


def mutual_information(genomes: np.ndarray, cardinalities: list[int]) -> np.ndarray:
    """The genes × genes matrix of mutual information (nats) of a population, one genome per row: joint
    frequencies of every pair of options from one product of one-hot codes."""
    offsets = np.concatenate([[0], np.cumsum(cardinalities)])
    onehot = np.zeros((len(genomes), offsets[-1]))
    for gene in range(genomes.shape[1]):
        onehot[np.arange(len(genomes)), offsets[gene] + genomes[:, gene]] = 1.0
    joint = onehot.T @ onehot / len(genomes)
    single = np.diag(joint)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / np.outer(single, single)), 0.0)
    blocks = np.add.reduceat(np.add.reduceat(terms, offsets[:-1], axis=0), offsets[:-1], axis=1)
    np.fill_diagonal(blocks, 0.0)
    return np.maximum(blocks, 0.0)


def linkage_tree(genomes: list[list[int]], cardinalities: list[int]) -> list[tuple[int, ...]]:
    """The linkage tree's FOS over the genes with more than one option: singletons first, then the merged
    clusters in order of merging (the root left out)."""
    genes = [i for i, size in enumerate(cardinalities) if size > 1]
    if not genes:
        return []
    population = np.array(genomes, dtype=np.int64)[:, genes]
    similarity = mutual_information(population, [cardinalities[g] for g in genes])
    clusters: list[list[int]] = [[k] for k in range(len(genes))]
    alive = list(range(len(genes)))
    fos = [(g,) for g in genes]
    while len(alive) > 2:
        best, pair = -1.0, (alive[0], alive[1])
        for x, a in enumerate(alive):
            for b in alive[x + 1 :]:
                if similarity[a, b] > best + 1e-12:
                    best, pair = similarity[a, b], (a, b)
        a, b = pair
        size_a, size_b = len(clusters[a]), len(clusters[b])
        clusters[a] = clusters[a] + clusters[b]  # UPGMA: the merged cluster's average, weighted by sizes
        similarity[a, :] = similarity[:, a] = (size_a * similarity[a, :] + size_b * similarity[b, :]) / (
            size_a + size_b
        )
        alive.remove(b)
        fos.append(tuple(sorted(genes[k] for k in clusters[a])))
    return fos
