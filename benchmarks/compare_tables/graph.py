"""Table y: message passing on a stochastic-block-model graph. The sparse-dense
product forward + backward against scipy.sparse and torch's sparse product; one
training epoch of a 2-layer GCN and of a 2-layer GAT against PyTorch Geometric."""

import numpy as np
from ._common import Table, _timing_record, fmt_ratio, iqr, measure, ms, ratio, torch

NODES, FEATURES, DEGREE, BLOCKS = 100_000, 64, 10, 10
NODES_QUICK = 20_000
HIDDEN, HEADS = 64, 8  # GCN 64 -> 64 -> 10; GAT 64 -> 8 heads x 8 -> 10 (one head)


def _pyg():
    try:
        import torch_geometric.nn as pyg
    except ImportError:
        return None
    return pyg


def _sbm_edges(n, degree, blocks, rng):
    """A stochastic block model: 80 % of each node's edges inside its block."""
    n_edges = n * degree
    source = rng.integers(0, n, n_edges)
    block_size = n // blocks
    inside = rng.random(n_edges) < 0.8
    target = np.where(inside, (source // block_size) * block_size
                      + rng.integers(0, block_size, n_edges), rng.integers(0, n, n_edges))
    return np.vstack([source, np.minimum(target, n - 1)]).astype(np.int64)


def bench_graph(cfg):
    """Table y: sum aggregation over incoming edges, forward and backward (x's gradient)."""
    import scipy.sparse as sp

    from sklears_neural._kernels import spmm_backward, spmm_forward
    from sklears_neural.nn.functional import graph_csr

    rng = np.random.default_rng(0)
    n = NODES_QUICK if cfg.quick else NODES
    edges = _sbm_edges(n, DEGREE, BLOCKS, rng)
    indptr, indices, _ = graph_csr(edges, n)
    x = rng.standard_normal((n, FEATURES)).astype(np.float32)
    grad = rng.standard_normal((n, FEATURES)).astype(np.float32)
    A = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(n, n))
    At = A.T.tocsr()

    def ours():
        out, _ = spmm_forward(indptr, indices, None, x, "sum", n_threads=cfg.threads)
        return out, spmm_backward(indptr, indices, None, x, grad, "sum", None,
                                  n_threads=cfg.threads)[0]

    def scipy_pair():
        return A @ x, At @ grad

    out, gx = ours()
    ref_out, ref_gx = scipy_pair()
    if not (np.allclose(out, ref_out, rtol=1e-4, atol=1e-3)
            and np.allclose(gx, ref_gx, rtol=1e-4, atol=1e-3)):
        raise RuntimeError("graph: ours and scipy.sparse disagree")
    cases = [("product: ours, spmm_forward + spmm_backward", "ours", ours),
             ("product: scipy.sparse, A @ x + A.T @ grad (CSR)", "scipy", scipy_pair)]
    if torch is not None:
        tA = torch.sparse_csr_tensor(torch.from_numpy(indptr), torch.from_numpy(indices),
                                     torch.ones(len(indices)), size=(n, n))
        tx = torch.from_numpy(x).requires_grad_(True)
        tg = torch.from_numpy(grad)

        def torch_pair():
            tx.grad = None
            out = torch.sparse.mm(tA, tx)
            out.backward(tg)
            return out, tx.grad

        cases.append(("product: torch.sparse.mm forward + backward (CSR)", "torch", torch_pair))
    else:
        cases.append(("product: torch.sparse.mm", "torch", None))
    labels = (np.arange(n) // (n // BLOCKS)).clip(max=BLOCKS - 1).astype(np.int64)
    for kind in ("gcn", "gat"):
        cases.append((f"{kind.upper()} epoch: ours", f"ours_{kind}",
                      _our_epoch(kind, x, edges, labels)))
        cases.append((f"{kind.upper()} epoch: PyTorch Geometric", f"pyg_{kind}",
                      _pyg_epoch(kind, x, edges, labels)))
    table = Table("graph", f"y. Message passing on an SBM graph of {n:,} nodes, {FEATURES} "
                  f"float32 features, average degree {DEGREE} (threads={cfg.threads})",
                  ["implementation", "ms/call", "best ms", "iqr %", "time / ours"])
    timings = {key: None if fn is None else measure(fn, cfg) for _, key, fn in cases}
    for name, key, _ in cases:
        t = timings[key]
        if t is None:
            table.add_row([name, "not installed", "", "", ""], name=name, timing=None)
            continue
        ours_key = "ours" if name.startswith("product") else "ours_" + key.split("_")[-1]
        table.add_row([name, ms(t.median), ms(t.best), iqr(t),
                       fmt_ratio(ratio(t.median, timings[ours_key].median))],
                      name=name, timing=_timing_record(t))
    for ours_key, key, target in (("ours", "scipy", None), ("ours", "torch", 1.0),
                                  ("ours_gcn", "pyg_gcn", 1.0), ("ours_gat", "pyg_gat", 1.0)):
        if timings.get(key) is not None:
            table.add_check(f"{ours_key} / {key} time", ratio(timings[ours_key].median,
                                                              timings[key].median), target, "<=")
    table.add_note("scipy's row of A.T is precomputed (outside the timing); ours and torch's "
                   "backward work from A alone. An epoch is the forward pass over every node, "
                   f"cross-entropy against the {BLOCKS} blocks, the backward pass and an Adam "
                   f"step: GCN {FEATURES} -> {HIDDEN} -> {BLOCKS}, GAT {FEATURES} -> {HEADS} heads "
                   f"x {HIDDEN // HEADS} -> {BLOCKS} (one head), PyG's defaults (self-loops, "
                   "no caching) on both sides.")
    return table


def _our_epoch(kind, x, edges, labels):
    from sklears_neural import nn, optim
    from sklears_neural.autograd import Tensor
    from sklears_neural.nn import functional as F

    if kind == "gcn":
        first, second = nn.GCNConv(FEATURES, HIDDEN, generator=0), nn.GCNConv(HIDDEN, BLOCKS,
                                                                               generator=1)
    else:
        first = nn.GATConv(FEATURES, HIDDEN // HEADS, heads=HEADS, generator=0)
        second = nn.GATConv(HIDDEN, BLOCKS, generator=1)
    params = [*first.parameters(), *second.parameters()]
    optimizer = optim.Adam(params, lr=0.01)
    criterion = nn.CrossEntropyLoss()
    inputs = Tensor(x)

    def epoch():
        optimizer.zero_grad()
        loss = criterion(second(F.relu(first(inputs, edges)), edges), labels)
        loss.backward()
        optimizer.step()

    return epoch


def _pyg_epoch(kind, x, edges, labels):
    pyg = _pyg()
    if pyg is None or torch is None:
        return None
    if kind == "gcn":
        first, second = pyg.GCNConv(FEATURES, HIDDEN), pyg.GCNConv(HIDDEN, BLOCKS)
    else:
        first = pyg.GATConv(FEATURES, HIDDEN // HEADS, heads=HEADS)
        second = pyg.GATConv(HIDDEN, BLOCKS)
    optimizer = torch.optim.Adam([*first.parameters(), *second.parameters()], lr=0.01)
    tx, te, ty = torch.from_numpy(x), torch.from_numpy(edges), torch.from_numpy(labels)

    def epoch():
        optimizer.zero_grad()
        out = second(torch.relu(first(tx, te)), te)
        torch.nn.functional.cross_entropy(out, ty).backward()
        optimizer.step()

    return epoch
