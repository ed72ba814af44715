"""Table y: the sparse-dense product of message passing, forward + backward, on a
stochastic-block-model graph, against scipy.sparse and torch's sparse product."""

import numpy as np
from ._common import Table, _timing_record, fmt_ratio, iqr, measure, ms, ratio, torch

NODES, FEATURES, DEGREE, BLOCKS = 100_000, 64, 10, 10
NODES_QUICK = 20_000


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
    cases = [("ours: spmm_forward + spmm_backward", "ours", ours),
             ("scipy.sparse: A @ x + A.T @ grad (CSR)", "scipy", scipy_pair)]
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

        cases.append(("torch.sparse.mm forward + backward (CSR)", "torch", torch_pair))
    else:
        cases.append(("torch.sparse.mm", "torch", None))
    table = Table("graph", f"y. Message passing: sum over incoming edges, forward + backward, "
                  f"SBM graph of {n:,} nodes, {FEATURES} float32 features, average degree "
                  f"{DEGREE} (threads={cfg.threads})",
                  ["implementation", "ms/call", "best ms", "iqr %", "time / ours"])
    timings = {key: None if fn is None else measure(fn, cfg) for _, key, fn in cases}
    for name, key, _ in cases:
        t = timings[key]
        if t is None:
            table.add_row([name, "not installed", "", "", ""], name=name, timing=None)
            continue
        table.add_row([name, ms(t.median), ms(t.best), iqr(t),
                       fmt_ratio(ratio(t.median, timings["ours"].median))],
                      name=name, timing=_timing_record(t))
    for key, target in (("scipy", None), ("torch", 1.0)):
        if timings.get(key) is not None:
            table.add_check(f"ours / {key} time", ratio(timings["ours"].median,
                                                        timings[key].median), target, "<=")
    table.add_note("scipy's row of A.T is precomputed (outside the timing); ours and torch's "
                   "backward work from A alone. PyTorch Geometric is not installed here, and "
                   "the GCN/GAT epoch rows against it are still to be written.")
    return table
