"""Routed ``prefix__name`` arguments (``optimizer__weight_decay=0.01`` …), as skorch does.

An estimator that mixes this in accepts ``**kwargs`` whose names start with
one of its ``_ROUTES`` prefixes; they are stored verbatim as attributes,
returned by ``get_params`` (so ``clone`` and ``GridSearchCV`` keep them) and
handed to the object they configure when it is built in ``fit``.
"""

import inspect

from sklears_neural import optim

__all__ = ["RoutedParamsMixin"]

# Routed optimizer options that are not optimizer arguments: they shape the
# parameter groups (see ``optim.param_groups``).
_GROUP_OPTIONS = ("param_groups", "no_decay_bias_and_norm")


class RoutedParamsMixin:
    """``get_params``/``set_params`` and lookup of routed ``prefix__*`` arguments."""

    #: Prefixes this estimator routes.
    _ROUTES = ("optimizer", "callbacks")

    def _is_routed(self, key):
        prefix, sep, rest = key.partition("__")
        return bool(sep) and prefix in self._ROUTES and bool(rest)

    def _store(self, params):
        """Keep every constructor argument verbatim (scikit-learn's contract);
        ``params`` is the constructor's ``locals()``, routed ones in ``kwargs``."""
        params = dict(params)
        kwargs = params.pop("kwargs")
        params.pop("self")
        params.pop("__class__", None)
        for name, value in params.items():
            setattr(self, name, value)
        self._store_routed(kwargs)

    def _store_routed(self, kwargs):
        """Keep extra constructor arguments; unknown ones are rejected at ``fit``."""
        self._extra_kwargs = sorted(kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def _routed(self, prefix):
        start = prefix + "__"
        return {k[len(start):]: v for k, v in self.__dict__.items()
                if k.startswith(start) and self._is_routed(k)}

    def get_params(self, deep=True):
        """Return the estimator's parameters, routed ones (``optimizer__*`` …) included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of sub-objects, as scikit-learn's
            ``get_params``.

        Returns
        -------
        dict
            Parameter name to its value.
        """
        params = super().get_params(deep=deep)
        params.update({k: v for k, v in self.__dict__.items() if self._is_routed(k)})
        return params

    def set_params(self, **params):
        """Set parameters; routed ones (``optimizer__*`` …) may be new names.

        A name that is neither a parameter nor routed raises at once, as
        scikit-learn's ``set_params`` does (a typo is not kept until ``fit``).

        Parameters
        ----------
        **params : dict
            Parameter names (``name``, ``name__sub`` or a routed ``optimizer__*``
            …) and their new values.

        Returns
        -------
        self : object
            The estimator.

        Raises
        ------
        ValueError
            If a name is neither a parameter nor routed.
        """
        valid = set(self._get_param_names())
        plain = {}
        for key, value in params.items():
            if key.split("__")[0] in valid and not self._is_routed(key):
                plain[key] = value
            elif self._is_routed(key) or key in self.__dict__.get("_extra_kwargs", ()):
                setattr(self, key, value)  # an extra constructor argument: rejected at fit
            else:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. Valid "
                    f"parameters are: {sorted(valid)}, plus routed ones starting with "
                    f"{', '.join(p + '__' for p in self._ROUTES)}.")
        return super().set_params(**plain)

    def _check_routed(self):
        unknown = [k for k in self.__dict__.get("_extra_kwargs", ()) if not self._is_routed(k)]
        if unknown:
            raise ValueError(f"{type(self).__name__} got unexpected arguments {unknown}; extra "
                             f"arguments must start with one of "
                             f"{', '.join(p + '__' for p in self._ROUTES)}.")

    # -- optimizer ---------------------------------------------------------------
    def _optimizer_kwargs(self):
        """``optimizer__*`` arguments that go to the optimizer's constructor."""
        return {k: v for k, v in self._routed("optimizer").items() if k not in _GROUP_OPTIONS}

    def _make_optimizer(self, cls, parameters, **defaults):
        """``cls(parameters, **defaults)`` with the ``optimizer__*`` arguments on top;
        an argument the class does not take is a ValueError listing those it takes."""
        routed = self._optimizer_kwargs()
        signature = inspect.signature(cls).parameters
        accepted = [name for name in signature if name != "params"]
        takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.values())
        unknown = [] if takes_any else sorted(set(routed) - set(accepted))
        if unknown:
            raise ValueError(f"{cls.__name__} does not take {unknown} (given as optimizer__*); "
                             f"it takes {', '.join(accepted)}, plus param_groups and "
                             "no_decay_bias_and_norm.")
        return cls(parameters, **{**defaults, **routed})

    def _optimizer_class(self):
        """The optimizer class that ``_build_optimizer`` will use."""
        raise NotImplementedError

    def _optimizer_parameters(self):
        """The module's parameters, split into groups when ``optimizer__param_groups``
        or ``optimizer__no_decay_bias_and_norm`` ask for it."""
        routed = self._routed("optimizer")
        groups = routed.get("param_groups", ())
        no_decay = routed.get("no_decay_bias_and_norm", False)
        if not isinstance(no_decay, bool):
            raise ValueError("optimizer__no_decay_bias_and_norm must be True or False; got "
                             f"{no_decay!r}.")
        if not groups and not no_decay:
            return list(self.module_.parameters())
        exempt = {"weight_decay": 0.0}
        optimizer_class = self._optimizer_class()
        if isinstance(optimizer_class, type) and issubclass(optimizer_class, optim.LARS):
            exempt["lars_exclude"] = True
        return optim.param_groups(self.module_.named_parameters(), groups,
                                  no_decay_bias_and_norm=no_decay, exempt_options=exempt)

    # -- callbacks ---------------------------------------------------------------
    def _named_callbacks(self):
        named = super()._named_callbacks()
        by_name = dict(named)
        for key, value in self._routed("callbacks").items():
            name, _, param = key.partition("__")
            if name not in by_name or not param:
                raise ValueError(f"callbacks__{key}: no callback named {name!r}; callbacks are "
                                 f"{sorted(by_name)} (name them with (name, callback) pairs).")
            by_name[name].set_params(**{param: value})
        return named
