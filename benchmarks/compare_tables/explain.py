"""Table x: explanations against their peers: integrated gradients against
captum on the same network copied into PyTorch, KernelSHAP against shap."""

import warnings

import numpy as np

from ._common import Table, _timing_record, fmt_ratio, iqr, measure, ms, ratio, torch

IG_STEPS = 50
IG_INPUTS = 100
IG_TARGET = 1.0  # ours / captum time, <=
SHAP_INPUTS, SHAP_BACKGROUND = 10, 100
SHAP_TARGET = 1.0  # ours / shap time, <=


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


def _shap():
    try:
        import shap
    except ImportError:
        return None
    return shap


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
    return X, [("MLPClassifier() on digits", mlp, X[:IG_INPUTS]),
                           ("CNNClassifier() on digits", cnn,
                            X[:IG_INPUTS].reshape(-1, 8, 8))]


def bench_explain(cfg):
    """Table x: integrated gradients for 100 digits inputs against captum, KernelSHAP for
    10 against shap."""
    from sklears_neural.inspection import integrated_gradients

    IntegratedGradients = _captum() if torch is not None else None
    digits, models = _models()
    table = Table("explain",
                  f"x. Explanations on digits: integrated gradients ({IG_STEPS} "
                  f"Gauss-Legendre steps, {IG_INPUTS} inputs, float32) and KernelSHAP "
                  f"(threads={cfg.threads})",
                  ["model", "implementation", "ms/call", "best ms", "iqr %", "time / peer",
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
        _add_pair(table, label, ("ours: inspection.integrated_gradients", ours_t),
                  ("captum", "captum IntegratedGradients (copied torch model)", theirs_t), diff)
        table.add_check(f"ours / captum time, {label.split()[0]}",
                        ratio(ours_t.median, None if theirs_t is None else theirs_t.median),
                        IG_TARGET, "<=")
    _kernel_shap_rows(table, cfg, digits, models[0][1])
    table.add_note("Integrated gradients: both explain each input's predicted class on the "
                   "raw outputs (logits) from a zero baseline, in one pass over all inputs' "
                   "path points (captum: internal_batch_size=None; ours: up to 4096 points "
                   f"per pass). KernelSHAP: {SHAP_INPUTS} inputs, {SHAP_BACKGROUND} background "
                   "rows, the predicted class's probability, 2 * 64 + 2048 coalitions each "
                   "(shap's 'auto' count) and no L1 feature selection (l1_reg=False), so that "
                   "both solve the same regression; max |diff| reflects the different "
                   "coalition samples.")
    return table


def _add_pair(table, label, ours, peer, diff):
    """Our row and the peer's: ``ours`` is (name, timing), ``peer`` (key, name, timing)."""
    ours_name, ours_t = ours
    key, peer_name, peer_t = peer
    table.add_row([label, ours_name, ms(ours_t.median), ms(ours_t.best), iqr(ours_t),
                   fmt_ratio(ratio(ours_t.median, None if peer_t is None else peer_t.median)),
                   "" if diff is None else f"{diff:.1e}"],
                  name=label, impl="ours", timing=_timing_record(ours_t))
    if peer_t is None:
        table.add_row([label, peer_name, "not installed", "", "", "", ""], name=label, impl=key,
                      timing=None)
    else:
        table.add_row([label, peer_name, ms(peer_t.median), ms(peer_t.best), iqr(peer_t),
                       "1.00x", ""], name=label, impl=key, timing=_timing_record(peer_t))


def _kernel_shap_rows(table, cfg, X, model):
    from sklears_neural.inspection import kernel_shap

    shap = _shap()
    inputs, background = X[:SHAP_INPUTS], X[-SHAP_BACKGROUND:]
    n_samples = 2 * X.shape[1] + 2048
    label = "KernelSHAP, MLPClassifier()"

    def ours():
        return kernel_shap(model, inputs, background, n_samples=n_samples, random_state=0)

    reference = ours()
    ours_t = measure(ours, cfg)
    theirs_t, diff = None, None
    if shap is not None:
        columns = np.searchsorted(model.classes_, reference.target)
        explainer = shap.KernelExplainer(model.predict_proba, background)

        def theirs():
            return explainer.shap_values(inputs, nsamples=n_samples, l1_reg=False, silent=True)

        values = np.asarray(theirs())  # (inputs, features, classes)
        diff = float(np.abs(values[np.arange(SHAP_INPUTS), :, columns]
                            - reference.values).max())
        theirs_t = measure(theirs, cfg)
    _add_pair(table, label, ("ours: inspection.kernel_shap", ours_t),
              ("shap", "shap KernelExplainer", theirs_t), diff)
    table.add_check("ours / shap time, KernelSHAP",
                    ratio(ours_t.median, None if theirs_t is None else theirs_t.median),
                    SHAP_TARGET, "<=")
