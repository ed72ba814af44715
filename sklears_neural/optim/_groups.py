"""Parameter groups from a module's parameter names.

Optimizers take parameter groups (lists of dicts) as torch's do; this builds
them from readable rules, so that an estimator can say "no weight decay on
biases and normalisation parameters" or "a tenth of the learning rate for
the first layer" without touching the module.
"""

from fnmatch import fnmatchcase

__all__ = ["is_bias_or_norm", "param_groups"]


def is_bias_or_norm(name, param):
    """Whether a parameter is a bias or a normalisation scale/shift.

    The usual convention (BERT, timm, ...): vectors (``ndim <= 1``: biases,
    batch/layer/group-norm weights and biases, PReLU slopes) and anything
    named ``bias``. Such parameters are commonly exempt from weight decay.

    Parameters
    ----------
    name : str
        Dotted parameter name, as from ``Module.named_parameters``.
    param : Tensor
        The parameter.

    Returns
    -------
    bool
        True for a parameter with at most one dimension or named ``bias``.
    """
    return param.ndim <= 1 or name.rsplit(".", 1)[-1] == "bias"


def param_groups(named_parameters, groups=(), no_decay_bias_and_norm=False, exempt_options=None):
    """Split parameters into optimizer groups by name patterns.

    Parameters
    ----------
    named_parameters : iterable of (str, Tensor)
        E.g. ``module.named_parameters()``.
    groups : sequence of (str, dict), default=()
        ``(pattern, options)`` pairs, as skorch's ``optimizer__param_groups``:
        a parameter whose name matches the shell-style ``pattern``
        (``fnmatch``, e.g. ``"layers.0.*"`` or ``"*.bias"``) goes to a group
        with those options (``lr``, ``weight_decay``, ...). The first
        matching pattern wins; unmatched parameters form the default group,
        which uses the optimizer's own defaults.
    no_decay_bias_and_norm : bool, default=False
        Put biases and normalisation parameters (see ``is_bias_or_norm``)
        of each group in a group of their own with ``exempt_options``.
    exempt_options : dict, optional
        Options of those groups; default ``{"weight_decay": 0.0}`` (add
        ``"lars_exclude": True`` for LARS).

    Returns
    -------
    list of dict
        Parameter groups for an optimizer's constructor, without empty ones.

    Raises
    ------
    ValueError
        When a group is not a ``(pattern, dict)`` pair, or a pattern matches
        no parameter (a typo would otherwise be silently ignored).

    Examples
    --------
    >>> from sklears_neural import nn, optim
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    >>> groups = optim.param_groups(net.named_parameters(), [("0.*", {"lr": 1e-4})],
    ...                             no_decay_bias_and_norm=True)
    >>> opt = optim.AdamW(groups, lr=1e-3, weight_decay=0.01)
    >>> [(len(g["params"]), g["lr"], g["weight_decay"]) for g in opt.param_groups]
    [(1, 0.0001, 0.01), (1, 0.0001, 0.0), (1, 0.001, 0.01), (3, 0.001, 0.0)]
    """
    rules = []
    for rule in groups:
        if (not isinstance(rule, (tuple, list)) or len(rule) != 2
                or not isinstance(rule[0], str) or not isinstance(rule[1], dict)):
            raise ValueError("param_groups must be a list of (pattern, options dict) pairs, "
                             f"e.g. [('*.bias', {{'weight_decay': 0.0}})]; got {rule!r}.")
        rules.append((rule[0], dict(rule[1])))
    named = list(named_parameters)
    # (rule index or None for the default group, exempt from decay?) -> params
    buckets = {}
    matched = set()
    for name, param in named:
        index = next((i for i, (pattern, _) in enumerate(rules) if fnmatchcase(name, pattern)),
                     None)
        if index is not None:
            matched.add(index)
        exempt = bool(no_decay_bias_and_norm) and is_bias_or_norm(name, param)
        buckets.setdefault((index, exempt), []).append(param)
    unmatched = [rules[i][0] for i in range(len(rules)) if i not in matched]
    if unmatched:
        names = [name for name, _ in named]
        raise ValueError(f"param_groups patterns {unmatched} match no parameter; the "
                         f"parameters are {names}.")
    order = [(i, exempt) for i in [*range(len(rules)), None] for exempt in (False, True)]
    result = []
    for index, exempt in order:
        params = buckets.get((index, exempt))
        if not params:
            continue
        group = {"params": params, **(rules[index][1] if index is not None else {})}
        if exempt:
            group.update({"weight_decay": 0.0} if exempt_options is None else exempt_options)
        result.append(group)
    return result
