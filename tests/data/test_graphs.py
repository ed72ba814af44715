"""Graphs in the data layer: Graph, collation into block-diagonal batches,
GraphDataset, networkx and TU-format input, and the errors that name the graph."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

from sklears_neural.data import (
    DataLoader,
    Graph,
    GraphBatch,
    GraphDataset,
    collate_graphs,
    read_tu,
)


def _graph(rng, n, edges, features=3, **kwargs):
    return Graph(rng.normal(size=(n, features)), np.array(edges, dtype=np.int64).T.reshape(2, -1),
                 **kwargs)


def test_adjacency_is_sources_by_targets_and_round_trips(rng):
    g = _graph(rng, 4, [(0, 1), (2, 1), (1, 3), (3, 3), (0, 1)], edge_weight=[1, 2, 3, 4, 5])
    A = g.adjacency().toarray()
    expected = np.zeros((4, 4))
    expected[0, 1], expected[2, 1], expected[1, 3], expected[3, 3] = 1 + 5, 2, 3, 4
    np.testing.assert_array_equal(A, expected)  # duplicate edges add up
    counts = (expected > 0) * 1.0
    counts[0, 1] = 2  # the edge 0 -> 1 is listed twice
    np.testing.assert_array_equal(g.adjacency(weighted=False).toarray(), counts)
    again = Graph(g.x, adjacency=g.adjacency())
    np.testing.assert_array_equal(again.adjacency().toarray(), A)
    stored_zero = sp.csr_matrix((np.array([0.0, 2.0]), (np.array([0, 1]), np.array([1, 2]))),
                                shape=(4, 4))
    assert Graph(g.x, adjacency=stored_zero).n_edges == 1  # a stored zero is no edge


def test_collation_is_block_diagonal(rng):
    graphs = [_graph(rng, 3, [(0, 1), (1, 2)]), _graph(rng, 1, []),  # one node, no edges
              _graph(rng, 4, [(3, 0), (2, 2)])]
    batch = collate_graphs(graphs)
    assert isinstance(batch, GraphBatch) and batch.n_graphs == 3
    np.testing.assert_array_equal(batch.batch, [0, 0, 0, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(batch.x, np.vstack([g.x for g in graphs]))
    together = Graph(batch.x, batch.edge_index).adjacency().toarray()
    np.testing.assert_array_equal(together,
                                  sp.block_diag([g.adjacency() for g in graphs]).toarray())
    assert batch.edge_attr is None and batch.edge_weight is None


def test_graph_dataset_batches_through_the_loader(rng):
    graphs = [_graph(rng, n, [(0, n - 1)], edge_attr=np.ones((1, 2))) for n in (2, 3, 4, 5, 6)]
    data = GraphDataset(graphs, y=np.arange(5), sample_weight=np.ones(5))
    batches = list(DataLoader(data, batch_size=2))
    assert [b[0].n_graphs for b in batches] == [2, 2, 1]
    np.testing.assert_array_equal(batches[1][1], [2, 3])
    assert batches[0][0].edge_attr.shape == (2, 2)
    # graphs of 4 and 5 nodes: each edge (0, n - 1), the second shifted by 4
    np.testing.assert_array_equal(batches[1][0].edge_index, [[0, 4], [3, 8]])
    sub = data.subset([4, 0])
    assert [g.n_nodes for g in sub.graphs] == [6, 2] and list(sub.y) == [4, 0]


def test_from_networkx_lists_undirected_edges_both_ways(rng):
    nx = pytest.importorskip("networkx", reason="networkx reads the karate club")
    karate = nx.karate_club_graph()
    g = Graph.from_networkx(karate, y="club")
    assert (g.n_nodes, g.n_edges) == (34, 2 * karate.number_of_edges())
    expected = nx.to_scipy_sparse_array(karate, weight="weight").toarray()
    np.testing.assert_array_equal(g.adjacency().toarray(), expected)
    assert set(g.y) == {"Mr. Hi", "Officer"}
    directed = nx.DiGraph([(0, 1), (1, 1)])
    nx.set_node_attributes(directed, {0: 2.0, 1: 5.0}, "size")
    d = Graph.from_networkx(directed, node_features="size")
    np.testing.assert_array_equal(d.x, [[2.0], [5.0]])
    np.testing.assert_array_equal(d.edge_index, [[0, 1], [1, 1]])
    loop = Graph.from_networkx(nx.Graph([(0, 0), (0, 1)]))
    assert loop.n_edges == 3  # the self-loop once, the edge both ways


def test_from_a_sparse_adjacency(rng):
    adjacency = sp.csr_matrix(np.array([[0, 2.0, 0], [0, 0, 1.0], [0, 0, 0]]))
    g = Graph(rng.normal(size=(3, 2)), adjacency=adjacency)
    np.testing.assert_array_equal(g.edge_index, [[0, 1], [1, 2]])
    np.testing.assert_array_equal(g.edge_weight, [2.0, 1.0])
    unweighted = Graph(rng.normal(size=(3, 2)), adjacency=adjacency > 0)
    assert unweighted.edge_weight is None


def _write_tu(folder, name, files):
    folder.mkdir()
    for suffix, lines in files.items():
        (folder / f"{name}_{suffix}.txt").write_text("\n".join(lines) + "\n")


def test_read_tu_splits_the_dataset_into_graphs(tmp_path):
    _write_tu(tmp_path / "TOY", "TOY", {
        "A": ["1, 2", "2, 1", "3, 4", "4, 5", "5, 3"],
        "graph_indicator": ["1", "1", "2", "2", "2"],
        "graph_labels": ["1", "-1"],
        "node_labels": ["0", "2", "2", "0", "1"],
        "edge_labels": ["1", "1", "0", "0", "1"]})
    graphs, y = read_tu(tmp_path / "TOY")
    np.testing.assert_array_equal(y, [1, -1])
    assert [g.n_nodes for g in graphs] == [2, 3]
    np.testing.assert_array_equal(graphs[1].edge_index, [[0, 1, 2], [1, 2, 0]])
    np.testing.assert_array_equal(graphs[0].x, [[1, 0, 0], [0, 0, 1]])  # labels 0, 2 one-hot
    np.testing.assert_array_equal(graphs[1].edge_attr, [[1, 0], [1, 0], [0, 1]])
    with pytest.raises(FileNotFoundError, match="TOY_graph_labels.txt"):
        (tmp_path / "TOY" / "TOY_graph_labels.txt").unlink()
        read_tu(tmp_path / "TOY")


def test_read_tu_mutag_from_grakel():
    grakel = pytest.importorskip("grakel", reason="grakel's installed tests carry MUTAG")
    folder = os.path.join(os.path.dirname(grakel.__file__), "tests", "data", "MUTAG")
    graphs, y = read_tu(folder)
    assert len(graphs) == 188 and sorted(np.unique(y, return_counts=True)[1]) == [63, 125]
    assert sum(g.n_nodes for g in graphs) == 3371 and sum(g.n_edges for g in graphs) == 7442
    assert graphs[0].n_features == 7 and graphs[0].edge_attr.shape[1] == 4


def test_errors_name_the_graph_and_the_problem(rng):
    x = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match=r"X\[2\]: edge \(1, 3\) points outside the 3 nodes"):
        Graph(x, [[0, 1], [1, 3]], name="X[2]")
    with pytest.raises(ValueError, match="points outside"):
        Graph(x, [[-1], [0]])
    with pytest.raises(ValueError, match="edge_index must hold integer node indices"):
        Graph(x, [[0.5], [1.0]])
    with pytest.raises(ValueError, match=r"must have shape \(2, n_edges\).*transpose"):
        Graph(x, [[0, 1], [1, 2], [2, 0]])
    with pytest.raises(ValueError, match="node features contain NaN"):
        Graph(np.array([[np.nan], [1.0]]))
    with pytest.raises(ValueError, match=r"adjacency has shape \(2, 2\); the graph has 3 nodes"):
        Graph(x, adjacency=sp.eye(2))
    with pytest.raises(ValueError, match="edge_weight has shape"):
        Graph(x, [[0], [1]], edge_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        Graph(x, mask=[1, 0, 1])
    graphs = [Graph(x, name="X[0]"), Graph(rng.normal(size=(2, 5)), name="X[1]")]
    with pytest.raises(ValueError, match="X\\[0\\] has 2, X\\[1\\] has 5"):
        GraphDataset(graphs)
    with pytest.raises(ValueError, match="Some graphs have edge_weight and X\\[1\\] has none"):
        collate_graphs([Graph(x, [[0], [1]], edge_weight=[1.0], name="X[0]"),
                        Graph(x, name="X[1]")])


def test_molecules_from_smiles():
    pytest.importorskip("rdkit", reason="from_smiles reads SMILES with RDKit (the chem extra)")
    from sklears_neural.data import from_smiles

    benzene = from_smiles("c1ccccc1", y=0.5)
    assert (benzene.n_nodes, benzene.n_edges, benzene.n_features) == (6, 12, 38)
    assert benzene.edge_attr.shape == (12, 6) and (benzene.edge_attr[:, 3] == 1).all()  # aromatic
    assert benzene.x[:, 0].all()  # every atom is carbon
    chloride = from_smiles("CS(=O)(=O)Cl")
    assert chloride.n_nodes == 5 and chloride.x[:, 5].sum() == 1  # one chlorine
    with pytest.raises(ValueError, match="RDKit cannot parse"):
        from_smiles("C1CC", name="X[7]")
