"""Whether operations record a graph for backward: ``no_grad`` and friends."""

import functools
import threading

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]

_state = threading.local()


def is_grad_enabled():
    """Return True when new operations record the graph for backward.

    Returns
    -------
    bool
        False inside ``no_grad``, True otherwise (the default), per thread.
    """
    return getattr(_state, "enabled", True)


class _GradMode:
    """Context manager and decorator that sets grad mode, then restores it."""

    _enabled = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.enabled = self._enabled
        return self

    def __exit__(self, *exc_info):
        _state.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Run operations without recording a graph (inference, optimizer steps).

    Use as ``with no_grad(): ...`` or as a decorator ``@no_grad()``.
    """

    _enabled = False


class enable_grad(_GradMode):
    """Record the graph again inside a ``no_grad`` block."""

    _enabled = True
