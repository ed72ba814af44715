"""Table x: explanations against captum on the same network copied into PyTorch."""

import warnings

import numpy as np
from ._common import Table, _timing_record, fmt_ratio, iqr, measure, ms, ratio, torch

IG_STEPS = 50
IG_INPUTS = 100
IG_TARGET = 1.0  # ours / captum time, <=


def _captum():
    try:
        from captum.attr import IntegratedGradients
    except ImportError:
        return None
    return IntegratedGradients


def _to_torch(module):
    """Our CNN/MLP network rebuilt as a float32 torch.nn.Sequential with its weights."""
    tnn = torch.nn
    layers = []
    for layer in module.layers:
        kind = type(layer).__name__
        if kind == "Unflatten":
            layers.append(tnn.Unflatten(1, tuple(layer.shape)))
        elif kind == "Conv2d":
            conv = tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                              padding="same", bias=layer.bias is not None)
            _copy(conv, layer)
            layers.append(conv)
        elif kind == "BatchNorm2d":
            norm = tnn.BatchNorm2d(layer.num_features, eps=layer.eps)
            _copy(norm, layer)
            norm.running_mean.data = _t(layer.running_mean)
            norm.running_var.data = _t(layer.running_var)
            layers.append(norm)
        elif kind == "Activation":
            layers.append(_activation(layer.name))
        elif kind == "MaxPool2d":
            layers.append(tnn.MaxPool2d(layer.kernel_size, ceil_mode=layer.ceil_mode))
        elif kind == "Flatten":
            layers.append(tnn.Flatten())
        elif kind == "Linear":
            linear = tnn.Linear(layer.in_features, layer.out_features)
            _copy(linear, layer)
            layers.append(linear)
            if layer.activation not in (None, "identity"):
                layers.append(_activation(layer.activation))
        else:
            raise TypeError(f"no torch twin for {kind}")
    return tnn.Sequential(*layers).eval()


def _activation(name):
    if name != "relu":
        raise TypeError(f"no torch twin for activation {name!r}")
    return torch.nn.ReLU()


def _t(array):
    return torch.from_numpy(np.array(array, dtype=np.float32))


def _copy(torch_layer, our_layer):
    torch_layer.weight.data = _t(our_layer.weight.data)
    if our_layer.bias is not None:
        torch_layer.bias.data = _t(our_layer.bias.data)


def _models():
    """A default MLPClassifier and CNNClassifier fitted on standardised digits."""
    from sklearn.datasets import load_digits

    from sklears_neural import CNNClassifier, MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(random_state=0).fit(X, y)
        cnn = CNNClassifier(random_state=0).fit(X.reshape(-1, 8, 8), y)
    return X[:IG_INPUTS], [("MLPClassifier() on digits", mlp, X[:IG_INPUTS]),
                           ("CNNClassifier() on digits", cnn,
                            X[:IG_INPUTS].reshape(-1, 8, 8))]


def bench_explain(cfg):
    """Table x: integrated gradients for 100 digits inputs, ours against captum."""
    from sklears_neural.inspection import integrated_gradients

    IntegratedGradients = _captum() if torch is not None else None
    _, models = _models()
    table = Table("explain",
                  f"x. Integrated gradients ({IG_STEPS} Gauss-Legendre steps, {IG_INPUTS} "
                  f"digits inputs, float32, threads={cfg.threads})",
                  ["model", "implementation", "ms/call", "best ms", "iqr %", "time / captum",
                   "max |diff|"])
    for label, model, X in models:
        def ours(model=model, X=X):
            return integrated_gradients(model, X, n_steps=IG_STEPS)

        reference = ours()
        theirs = None
        if IntegratedGradients is not None:
            explainer = IntegratedGradients(_to_torch(model.module_))
            tx = torch.from_numpy(X.reshape(len(X), -1).astype(np.float32))  # flat rows
            targets = torch.from_numpy(np.searchsorted(model.classes_, reference.target))

            def theirs(explainer=explainer, tx=tx, targets=targets):
                return explainer.attribute(tx, target=targets, n_steps=IG_STEPS)

        ours_t = measure(ours, cfg)
        theirs_t = None if theirs is None else measure(theirs, cfg)
        diff = None if theirs is None else float(np.abs(
            theirs().detach().numpy() - reference.values.reshape(len(X), -1)).max())
        table.add_row([label, "ours: inspection.integrated_gradients", ms(ours_t.median),
                       ms(ours_t.best), iqr(ours_t), fmt_ratio(ratio(ours_t.median,
                       None if theirs_t is None else theirs_t.median)),
                       "" if diff is None else f"{diff:.1e}"],
                      name=label, impl="ours", timing=_timing_record(ours_t))
        if theirs_t is None:
            table.add_row([label, "captum IntegratedGradients", "not installed", "", "", "", ""],
                          name=label, impl="captum", timing=None)
        else:
            table.add_row([label, "captum IntegratedGradients (copied torch model)",
                           ms(theirs_t.median), ms(theirs_t.best), iqr(theirs_t), "1.00x", ""],
                          name=label, impl="captum", timing=_timing_record(theirs_t))
        table.add_check(f"ours / captum time, {label.split()[0]}",
                        ratio(ours_t.median, None if theirs_t is None else theirs_t.median),
                        IG_TARGET, "<=")
    table.add_note("Both explain each input's predicted class on the raw outputs (logits) "
                   "from a zero baseline, in one pass over all inputs' path points (captum: "
                   "internal_batch_size=None; ours: up to 4096 points per pass). KernelSHAP "
                   "against shap's KernelExplainer joins this table when ours is built.")
    return table
