"""
Why a karate club member was put in a club (GNNExplainer)
=========================================================

Zachary's karate club from four labelled members, and why a member was put in
a club (GNNExplainer).

Run it alone: ``python examples/plot_karate_gnn_explainer.py [output folder]`` (needs
networkx, which ships the karate club). Fits ``GNNNodeClassifier`` at its
defaults (a two-layer GCN) on the club's friendship graph with only the two
leaders and one member of each club labelled, prints the accuracy on the
other 30 members, and saves ``karate_explainer.png``: the predicted clubs,
and the edges GNNExplainer finds that member 8's prediction rests on.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sklears_neural.data import Graph  # noqa: E402
from sklears_neural.gnn import GNNNodeClassifier  # noqa: E402
from sklears_neural.inspection import gnn_explainer  # noqa: E402

LABELLED = [0, 33, 1, 32]
EXPLAINED = 8


def main(out_dir=None, quick=False):
    import networkx as nx

    club = nx.karate_club_graph()
    officer = np.array([club.nodes[i]["club"] == "Officer" for i in club], dtype=int)
    graph = Graph.from_networkx(club, np.eye(34), edge_weight=None)
    y = np.full(34, -1)
    y[LABELLED] = officer[LABELLED]
    model = GNNNodeClassifier(random_state=0, max_iter=5 if quick else 200).fit(graph, y)
    predicted = model.predict(graph)
    rest = np.setdiff1d(np.arange(34), LABELLED)
    print(f"accuracy on the 30 unlabelled members: {(predicted[rest] == officer[rest]).mean():.3f}")
    explanation = gnn_explainer(model, graph, node=EXPLAINED, epochs=20 if quick else 200,
                                random_state=0)
    print(f"member {EXPLAINED}: club {explanation.target}; its strongest edges "
          f"{explanation.top_edges(4).tolist()}")

    layout = nx.spring_layout(club, seed=0)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    colours = np.where(predicted == 1, "tab:orange", "tab:blue")
    nx.draw_networkx(club, layout, ax=left, node_color=colours, font_size=7,
                     edgecolors=["black" if i in LABELLED else "none" for i in range(34)])
    left.set_title("predicted clubs (black rim: the 4 labelled members)")
    strength = {}
    for (u, v), m in zip(explanation.edge_index.T, explanation.edge_mask):
        strength[frozenset((u, v))] = max(strength.get(frozenset((u, v)), 0.0), m)
    widths = [0.2 + 4 * strength.get(frozenset(e), 0.0) for e in club.edges]
    nx.draw_networkx(club, layout, ax=right, node_color=colours, font_size=7, width=widths,
                     edgecolors=["red" if i == EXPLAINED else "none" for i in range(34)])
    right.set_title(f"GNNExplainer's edge mask for member {EXPLAINED} (width)")
    for ax in (left, right):
        ax.axis("off")
    figure.tight_layout()
    if out_dir is None:  # shown, not saved
        return []
    path = Path(out_dir) / "karate_explainer.png"
    figure.savefig(path, dpi=100)
    print(f"saved {path}")
    return [path]


if __name__ == "__main__":  # the gallery runs it so: figures stay open, nothing saved
    main(sys.argv[1] if len(sys.argv) > 1 else None,
         quick=os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1")
