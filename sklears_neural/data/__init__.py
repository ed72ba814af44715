"""The data layer: datasets, samplers, loaders and streams over numpy arrays.

What turns user input into batches. A dataset item, and a batch, is a tuple
``(input,)``, ``(input, y)`` or ``(input, y, sample_weight)``; ``input`` is an
ndarray, or a namedtuple of arrays such as ``Padded(values, lengths)`` or
``GraphBatch`` (graphs collated block-diagonally) that a model receives
unpacked. This layer imports only numpy and scipy (pandas
input is recognised without importing pandas).

>>> import numpy as np
>>> from sklears_neural.data import ArrayDataset, DataLoader
>>> X, y = np.zeros((100, 4)), np.arange(100) % 2
>>> for xb, yb in DataLoader(ArrayDataset(X, y), batch_size=32, shuffle=True, generator=0):
...     pass
"""

from sklears_neural.data._dataset import (
    ArrayDataset,
    ArrayStream,
    Dataset,
    GeneratorStream,
    IterableDataset,
    Subset,
)
from sklears_neural.data._graph import Graph, GraphBatch, GraphDataset, collate_graphs
from sklears_neural.data._graph_io import from_smiles, read_tu
from sklears_neural.data._graph_links import LinkBatch, LinkDataset, split_edges
from sklears_neural.data._graph_nodes import NodeBatch, NodeDataset
from sklears_neural.data._loader import DataLoader, default_collate
from sklears_neural.data._replay import (
    PrioritizedReplayBuffer,
    ReplayBuffer,
    RolloutBuffer,
    gae,
)
from sklears_neural.data._sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StratifiedBatchSampler,
    WeightedRandomSampler,
)
from sklears_neural.data._sequence import Padded, SequenceDataset, pad_sequences

__all__ = [
    "ArrayDataset",
    "ArrayStream",
    "BatchSampler",
    "DataLoader",
    "Dataset",
    "GeneratorStream",
    "Graph",
    "GraphBatch",
    "GraphDataset",
    "IterableDataset",
    "LinkBatch",
    "LinkDataset",
    "NodeBatch",
    "NodeDataset",
    "Padded",
    "PrioritizedReplayBuffer",
    "RandomSampler",
    "ReplayBuffer",
    "RolloutBuffer",
    "Sampler",
    "SequenceDataset",
    "SequentialSampler",
    "StratifiedBatchSampler",
    "Subset",
    "WeightedRandomSampler",
    "collate_graphs",
    "default_collate",
    "from_smiles",
    "gae",
    "pad_sequences",
    "read_tu",
    "split_edges",
]
