"""Small modules shared by the estimator tests (importable, so they pickle)."""

from sklears_neural import nn


class TinyNet(nn.Module):
    """n_features -> hidden (relu) -> n_outputs."""

    def __init__(self, n_features, n_outputs, hidden=16, generator=None):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden, activation="relu", generator=generator)
        self.out = nn.Linear(hidden, n_outputs, generator=generator)

    def forward(self, x):
        return self.out(self.hidden(x))
