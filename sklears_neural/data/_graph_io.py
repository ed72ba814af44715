"""Graphs from files and formats: the TU format of the TU graph benchmarks, and
molecules from SMILES (RDKit, optional)."""

from pathlib import Path

import numpy as np

from sklears_neural.data._graph import Graph

__all__ = ["from_smiles", "read_tu"]


def read_tu(folder, name=None):
    """Read a dataset in the TU format (the TU Dortmund graph benchmarks).

    The files ``{name}_A.txt`` (edges "i, j", 1-based node numbers over the
    whole dataset), ``{name}_graph_indicator.txt`` (each node's graph) and
    ``{name}_graph_labels.txt`` are required. Node features are the one-hot
    ``{name}_node_labels.txt`` followed by ``{name}_node_attributes.txt``
    (a constant 1 when neither exists); edge features likewise from
    ``{name}_edge_labels.txt`` and ``{name}_edge_attributes.txt``. Edges are
    kept as listed (the benchmarks list undirected edges both ways).

    Parameters
    ----------
    folder : str or path
        The folder holding the files (e.g. grakel's
        ``grakel/tests/data/MUTAG``).
    name : str, optional
        The files' prefix (default: the folder's name).

    Returns
    -------
    graphs : list of Graph
        One per graph, in the file's order, named ``"{name} graph {k}"``.
    y : ndarray of shape (n_graphs,)
        The graph labels.
    """
    folder = Path(folder)
    name = folder.name if name is None else name

    def path(suffix):
        return folder / f"{name}_{suffix}.txt"

    for required in ("A", "graph_indicator", "graph_labels"):
        if not path(required).exists():
            raise FileNotFoundError(f"{path(required)} not found: a TU dataset needs "
                                    f"{name}_A.txt, {name}_graph_indicator.txt and "
                                    f"{name}_graph_labels.txt in {folder}.")
    edges = _table(path("A"), np.int64) - 1
    graph_of_node = _table(path("graph_indicator"), np.int64).reshape(-1) - 1
    y = _table(path("graph_labels"), np.int64).reshape(-1)
    n_nodes = len(graph_of_node)
    if (np.diff(graph_of_node) < 0).any():
        raise ValueError(f"{path('graph_indicator')}: the nodes of each graph must come "
                         "together, in graph order, as the TU format lists them.")
    x = _features(path("node_labels"), path("node_attributes"), n_nodes)
    edge_attr = _features(path("edge_labels"), path("edge_attributes"), len(edges),
                          constant=False)
    if edges.size and (edges.min() < 0 or edges.max() >= n_nodes):
        raise ValueError(f"{path('A')} has an edge outside the {n_nodes} nodes of "
                         f"{path('graph_indicator')}.")
    starts = np.searchsorted(graph_of_node, np.arange(len(y)))
    ends = np.searchsorted(graph_of_node, np.arange(len(y)), side="right")
    edge_graph = graph_of_node[edges[:, 0]] if edges.size else np.zeros(0, dtype=np.int64)
    graphs = []
    for k in range(len(y)):
        mine = edge_graph == k
        graphs.append(Graph(x[starts[k]:ends[k]], (edges[mine] - starts[k]).T,
                            edge_attr=None if edge_attr is None else edge_attr[mine],
                            name=f"{name} graph {k}"))
    return graphs, y


def _table(file, dtype):
    return np.loadtxt(file, delimiter=",", dtype=dtype, ndmin=2)


def _features(labels_file, attributes_file, n_rows, constant=True):
    """One-hot labels then attributes, per row; a constant column (or None) without."""
    parts = []
    if labels_file.exists():
        labels = _table(labels_file, np.int64)[:, 0]
        values = np.unique(labels)
        parts.append((labels[:, None] == values[None, :]).astype(np.float64))
    if attributes_file.exists():
        parts.append(_table(attributes_file, np.float64))
    if not parts:
        return np.ones((n_rows, 1)) if constant else None
    features = np.hstack(parts)
    if features.shape[0] != n_rows:
        raise ValueError(f"{labels_file.stem}: {features.shape[0]} rows for {n_rows} items.")
    return features


# One-hot atom and bond features of molecule graphs (the usual choices of
# MoleculeNet-style models); the last slot of each list is "other".
ATOM_SYMBOLS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B", "Si", "Se")
ATOM_DEGREES = (0, 1, 2, 3, 4, 5)
FORMAL_CHARGES = (-1, 0, 1)
HYDROGEN_COUNTS = (0, 1, 2, 3, 4)
HYBRIDIZATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")


def _one_hot(value, choices):
    row = [float(value == choice) for choice in choices]
    return row + [float(not any(row))]


def from_smiles(smiles, y=None, name=None):
    """A molecule as a Graph: atoms are nodes, bonds edges both ways (RDKit).

    Node features are one-hot element (``ATOM_SYMBOLS`` and other), degree,
    formal charge, attached hydrogens and hybridisation, plus aromaticity and
    ring membership (38 columns); edge features one-hot bond type (single,
    double, triple, aromatic) plus conjugation and ring membership (6).
    Hydrogens are implicit.

    Parameters
    ----------
    smiles : str
        The molecule.
    y : optional
        Its target, kept as the graph's ``y``.
    name : str, optional
        How errors name it (default: the SMILES).

    Returns
    -------
    Graph
        The molecule's graph, named after it.
    """
    try:
        from rdkit import Chem
    except ImportError as exc:
        raise ImportError("from_smiles needs RDKit: pip install 'sklears-neural[chem]' (or "
                          "pip install rdkit).") from exc
    name = smiles if name is None else name
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise ValueError(f"{name}: RDKit cannot parse this SMILES.")
    x = [_one_hot(a.GetSymbol(), ATOM_SYMBOLS) + _one_hot(a.GetDegree(), ATOM_DEGREES)
         + _one_hot(a.GetFormalCharge(), FORMAL_CHARGES)
         + _one_hot(a.GetTotalNumHs(), HYDROGEN_COUNTS)
         + _one_hot(str(a.GetHybridization()), HYBRIDIZATIONS)
         + [float(a.GetIsAromatic()), float(a.IsInRing())] for a in molecule.GetAtoms()]
    pairs, features = [], []
    for bond in molecule.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        row = (_one_hot(str(bond.GetBondType()), BOND_TYPES)[:-1]
               + [float(bond.GetIsConjugated()), float(bond.IsInRing())])
        pairs += [(i, j), (j, i)]
        features += [row, row]
    edge_index = np.array(pairs, dtype=np.int64).T.reshape(2, -1)
    edge_attr = np.array(features, dtype=np.float64).reshape(-1, 6)
    return Graph(np.array(x), edge_index, edge_attr=edge_attr, y=y, name=name)
