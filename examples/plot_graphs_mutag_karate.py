"""
Graph networks: molecules (MUTAG) and a karate club
===================================================

Two tasks that scikit-learn has no estimator for.

* **Whole graphs**: MUTAG's 188 molecules (grakel's bundled copy, TU format),
  each to be told mutagenic or not. ``GNNGraphClassifier()`` (a GIN) at its
  defaults, scored by 5-fold cross-validation as any scikit-learn estimator.
* **Nodes of one graph**: Zachary's karate club (networkx), where only four
  members are labelled. ``GNNNodeClassifier()`` (a two-layer GCN) labels
  the other 30; the first layer's 16 features per member, drawn in two
  dimensions, show the two clubs the network learned to separate.

Needs grakel and networkx (both in the ``[test]`` extra).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold, cross_val_score

from sklears_neural import GNNGraphClassifier, GNNNodeClassifier, Tensor, nn, no_grad
from sklears_neural.data import Graph, read_tu
from sklears_neural.nn import functional as F

QUICK = os.environ.get("SKLEARS_NEURAL_EXAMPLES_QUICK") == "1"  # CI: a few epochs

import grakel  # noqa: E402
import networkx as nx  # noqa: E402

graphs, y = read_tu(os.path.join(os.path.dirname(grakel.__file__), "tests", "data",
                                 "MUTAG"), "MUTAG")
model = GNNGraphClassifier(random_state=0, **({"max_iter": 2} if QUICK else {}))
folds = StratifiedKFold(5, shuffle=True, random_state=0)
scores = cross_val_score(model, graphs, y, cv=folds)
print(f"MUTAG, 5-fold accuracy of GNNGraphClassifier(): {scores.mean():.3f} "
      f"+/- {scores.std():.3f}")

# %%
# The karate club from four labelled members
# ------------------------------------------
club = nx.karate_club_graph()
officer = np.array([club.nodes[i]["club"] == "Officer" for i in club], dtype=int)
graph = Graph.from_networkx(club, np.eye(34), edge_weight=None)
labelled = [0, 33, 1, 32]  # the two leaders and one member of each club
targets = np.full(34, -1)  # -1: not labelled
targets[labelled] = officer[labelled]
nodes = GNNNodeClassifier(random_state=0, **({"max_iter": 5} if QUICK else {}))
nodes.fit(graph, targets)
predicted = nodes.predict(graph)
rest = np.setdiff1d(np.arange(34), labelled)
print(f"karate club: {np.mean(predicted[rest] == officer[rest]):.3f} of the 30 unlabelled "
      "members put in their club")

# %%
# The learned embedding
# ---------------------
# The fitted network is ``nodes.module_``, an ``nn.Module``: its first
# convolution, called on the graph in evaluation mode, gives each member's
# 16 hidden features; PCA draws them in two dimensions, coloured by the club
# each member joined after the split.
with nn.eval_mode(), no_grad():
    hidden = F.relu(nodes.module_.conv0(Tensor(graph.x.astype(np.float32)),
                                        graph.edge_index)).numpy()
points = PCA(2, random_state=0).fit_transform(hidden)
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
colours = np.where(officer == 1, "tab:orange", "tab:blue")
left.scatter(points[:, 0], points[:, 1], c=colours, s=60,
             edgecolors=["black" if i in labelled else "none" for i in range(34)])
for i, (a, b) in enumerate(points):
    left.annotate(str(i), (a, b), fontsize=7, ha="center", va="center")
left.set_title("first-layer embedding (PCA); black rim: labelled")
nx.draw_networkx(club, nx.spring_layout(club, seed=0), ax=right, font_size=7,
                 node_color=np.where(predicted == 1, "tab:orange", "tab:blue"))
right.set_title("predicted clubs")
right.axis("off")
figure.tight_layout()
