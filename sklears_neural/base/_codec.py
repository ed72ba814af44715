"""An object graph as JSON and arrays, and back, without pickle.

The encoder walks an object's state (what ``__getstate__`` gives, or its
``__dict__``): JSON values stay as they are; numbers JSON cannot hold, tuples,
sets, dicts with any keys, numpy scalars, dtypes and random generators become
tagged JSON objects; arrays become ``.npy`` members (written without pickle);
an object of a class becomes its class's name and its encoded state. An
object met twice is written once and referenced after, so shared parameters
stay shared.

The decoder only ever creates objects of classes it may: classes defined in
this library's modules (importing nothing else), a short list of plain-data
classes of NumPy and scikit-learn, the classes the caller trusts by name, and
subclasses of this library's ``nn.Module`` or ``Callback`` already imported
in the session (a network or callback of one's own). It creates them with
``cls.__new__`` and restores their state (``__setstate__`` for this library's
and scikit-learn's classes), never calling a constructor or any function the
file names.
"""

import importlib
import math
import pathlib
import sys
import types
from collections import OrderedDict

import numpy as np

from sklears_neural.backend import is_cupy_array, to_numpy

__all__ = ["Decoder", "Encoder", "UntrustedTypeError", "class_name"]

LIBRARY = "sklears_neural"
# Plain-data classes from elsewhere that fitted models hold (target encoders).
FOREIGN_CLASSES = frozenset({
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._label.MultiLabelBinarizer",
})
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


class UntrustedTypeError(TypeError):
    """A file names a class or function that loading will not create or call.

    Parameters
    ----------
    message : str
        What was refused and how to trust it.
    names : list of str
        The refused names.
    """

    def __init__(self, message, names):
        super().__init__(message)
        self.names = list(names)


def class_name(cls):
    """``module.QualName`` of a class or function.

    Parameters
    ----------
    cls : type or function
        The object.

    Returns
    -------
    str
        Its full name.
    """
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_library(name):
    return name == LIBRARY or name.startswith(LIBRARY + ".")


class Encoder:
    """Encode an object graph as JSON-ready values plus named arrays.

    Attributes
    ----------
    arrays : dict of str to ndarray
        Member name -> array, filled by ``encode``.
    """

    def __init__(self):
        self.arrays = {}
        self._memo = {}
        self._keep = []  # the encoded objects stay alive, so ids are not reused

    def encode(self, value, path="object"):
        """Encode ``value``.

        Parameters
        ----------
        value : object
            What to encode.
        path : str, default="object"
            Where it sits, for error messages.

        Returns
        -------
        object
            JSON-ready.

        Raises
        ------
        TypeError
            If something in it cannot be saved (a lambda, say), naming where.
        """
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and type(value) is int:
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.generic):
            return self._scalar(value, path)
        if isinstance(value, tuple) and type(value) is tuple:
            return {"__tuple__": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if id(value) in self._memo:
            return {"__ref__": self._memo[id(value)]}
        return self._shared(value, path)

    def _remember(self, value):
        self._memo[id(value)] = len(self._memo)
        self._keep.append(value)
        return self._memo[id(value)]

    def _shared(self, value, path):
        """Mutable or large values, written once and referenced after."""
        if is_cupy_array(value):
            value = to_numpy(value)  # a CuPy array, saved as a host array
        if isinstance(value, np.ndarray):
            ref = self._remember(value)
            if value.dtype.hasobject:
                return {"__objarray__": [self.encode(v, f"{path}[{i}]")
                                         for i, v in enumerate(value.ravel().tolist())],
                        "shape": list(value.shape), "id": ref}
            member = f"arrays/{len(self.arrays)}.npy"
            self.arrays[member] = value
            return {"__ndarray__": member, "id": ref}
        if type(value) is list:
            ref = self._remember(value)
            return {"__list__": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)],
                    "id": ref}
        if type(value) in (dict, OrderedDict):
            ref = self._remember(value)
            items = [[self.encode(k, f"{path} key"), self.encode(v, f"{path}[{k!r}]")]
                     for k, v in value.items()]
            return {"__odict__" if type(value) is OrderedDict else "__dict__": items, "id": ref}
        if type(value) in (set, frozenset):
            ref = self._remember(value)
            return {"__set__": [self.encode(v, path) for v in sorted(value, key=repr)],
                    "frozen": type(value) is frozenset, "id": ref}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.str if value.fields is None else value.descr}
        if isinstance(value, np.random.Generator):
            ref = self._remember(value)
            state = value.bit_generator.state
            return {"__generator__": state["bit_generator"], "state": self.encode(state, path),
                    "id": ref}
        if isinstance(value, type):
            return self._named("__type__", value, path)
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
            return self._named("__function__", value, path)
        if isinstance(value, types.MethodType):
            raise TypeError(f"cannot save {path}: a bound method; use a function defined at "
                            "the top of a module.")
        if isinstance(value, pathlib.PurePath):
            return {"__path__": str(value)}
        if type(value).__name__ == "EnvSpec":  # gymnasium: kept by id (its entry point is code)
            return {"__envspec__": value.id}
        return self._object(value, path)

    def _scalar(self, value, path):
        if value.dtype.hasobject:
            raise TypeError(f"cannot save {path}: a NumPy object scalar.")
        item = value.item()
        if isinstance(item, float) and not math.isfinite(item):
            item = {"__float__": repr(item)}
        elif isinstance(item, complex):
            item = [item.real, item.imag]
        elif isinstance(item, bytes):
            item = item.hex()
        return {"__scalar__": value.dtype.str, "value": item}

    def _named(self, tag, value, path):
        if value.__module__ == "builtins" and tag == "__type__":
            return {tag: f"builtins.{value.__qualname__}"}
        if "<lambda>" in value.__qualname__ or "<locals>" in value.__qualname__:
            raise TypeError(f"cannot save {path}: {value.__qualname__} is defined inside a "
                            "function or is a lambda, so it has no name to load it by; use a "
                            "function or class defined at the top of a module.")
        if value.__module__ == "numpy" and tag == "__type__":
            return {"__nptype__": np.dtype(value).str}
        return {tag: class_name(value)}

    def _object(self, value, path):
        cls = type(value)
        if getattr(cls, "__slots__", None) and not hasattr(value, "__dict__"):
            raise TypeError(f"cannot save {path}: {class_name(cls)} keeps its state in slots.")
        ref = self._remember(value)
        getstate = getattr(cls, "__getstate__", None)
        custom = getstate is not None and getstate is not object.__getstate__
        state = value.__getstate__() if custom else dict(vars(value))
        if not isinstance(state, dict):
            raise TypeError(f"cannot save {path}: {class_name(cls)}'s state is not a dict.")
        encoded = {"__object__": class_name(cls), "id": ref,
                   "state": {key: self.encode(v, f"{path}.{key}") for key, v in state.items()}}
        if isinstance(value, list):  # a list subclass (History): its items too
            encoded["items"] = [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]
        elif isinstance(value, dict):
            encoded["items"] = [[self.encode(k, f"{path} key"), self.encode(v, f"{path}[{k!r}]")]
                                for k, v in value.items()]
        return encoded


class Decoder:
    """Rebuild what ``Encoder`` wrote, creating only the classes it may.

    Parameters
    ----------
    read_array : callable
        Member name -> ndarray (read without pickle).
    trusted : sequence of str, optional
        Full names (``module.QualName``) of further classes and functions to
        create or refer to; their modules are imported.
    """

    def __init__(self, read_array, trusted=()):
        self._read_array = read_array
        self._trusted = set(trusted or ())
        self._objects = {}

    def names(self, value):
        """Every class and function name an encoded value refers to, with its use.

        Parameters
        ----------
        value : object
            Encoded.

        Returns
        -------
        set of (str, str)
            ``(module.QualName, kind)``, kind "object" (an instance is
            created), "type" (the class is a value) or "function".
        """
        found = set()
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for tag, kind in (("__object__", "object"), ("__type__", "type"),
                                  ("__function__", "function")):
                    if tag in item:
                        found.add((item[tag] if isinstance(item[tag], str) else repr(item[tag]),
                                   kind))
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return found

    def untrusted(self, value):
        """The names in an encoded value that loading would refuse.

        Parameters
        ----------
        value : object
            Encoded.

        Returns
        -------
        list of str
            Sorted.
        """
        refused = set()
        for name, kind in self.names(value):
            try:
                self.resolve(name, kind)
            except (UntrustedTypeError, ImportError):
                refused.add(name)
        return sorted(refused)

    def resolve(self, name, kind="object"):
        """The class or function called ``name``, if loading may use it as ``kind``.

        Parameters
        ----------
        name : str
            ``module.QualName``.
        kind : {"object", "type", "function"}, default="object"
            "object": an instance of the class is created (this library's
            classes, scikit-learn's label encoders, trusted names, and
            imported subclasses of this library's ``nn.Module`` or
            ``Callback``); "type": the class itself is a value, which an
            estimator may call later (only networks, optimizers, schedulers,
            callbacks and estimators, or trusted names); "function": a
            function the estimator may call (trusted names only).

        Returns
        -------
        type or function
            The object.

        Raises
        ------
        UntrustedTypeError
            If loading may not use it so.
        """
        if not isinstance(name, str) or any(part.startswith("__") or not part
                                            for part in name.split(".")):
            raise self._refusal(str(name), kind)  # __main__ modules, dunder attributes
        if name in self._trusted:
            _, target = _import_longest(name)
            if target is None:
                raise ImportError(f"the trusted name {name!r} is not found in its module.")
            return target
        if kind == "function":
            raise self._refusal(name, kind)
        if name.startswith("builtins.") and kind == "type":
            builtin = {"int": int, "float": float, "bool": bool, "str": str, "bytes": bytes,
                       "complex": complex, "tuple": tuple, "list": list, "dict": dict,
                       "set": set, "frozenset": frozenset}.get(name[9:])
            if builtin is None:
                raise self._refusal(name, kind)
            return builtin
        library = _is_library(name.split(".")[0])
        if library and any(part in _PRIVATE_LIBRARY_PARTS for part in name.split(".")):
            raise self._refusal(name, kind)  # compiled kernels, the demo: never imported so
        if library or (name in FOREIGN_CLASSES and kind == "object"):
            module_name, target = _import_longest(name)
            if (not isinstance(target, type) or target.__module__ != module_name
                    or (kind == "type" and not _callable_safely(target))):
                raise self._refusal(name, kind)
            return target
        found = self._already_imported(name)
        if found is None:
            raise self._refusal(name, kind)
        return found

    def _already_imported(self, name):
        """A user's network or callback class whose module is imported already."""
        from sklears_neural.base._callbacks import Callback
        from sklears_neural.nn import Module

        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = sys.modules.get(".".join(parts[:cut]))
            if module is not None:
                target = _walk(module, ".".join(parts[cut:]))
                if isinstance(target, type) and issubclass(target, (Module, Callback)) \
                        and target.__module__ == module.__name__:
                    return target
                return None
        return None

    def _refusal(self, name, kind="object"):
        what = {"object": "creates", "type": "takes as a class",
                "function": "calls"}[kind]
        return UntrustedTypeError(
            f"the file names {name!r}, which loading never {what} unless trusted: only "
            "sklears_neural's classes (and an imported subclass of its nn.Module or Callback) "
            "load by default, and no function. If you trust the file, pass "
            f"trusted=[{name!r}] (its module is then imported).", [name])

    def decode(self, value):
        """Rebuild an encoded value.

        Parameters
        ----------
        value : object
            Encoded.

        Returns
        -------
        object
            The value.
        """
        if isinstance(value, list):  # only inside tagged containers
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__ref__" in value:
            if value["__ref__"] not in self._objects:
                raise ValueError(f"the file refers to object {value['__ref__']!r} before "
                                 "defining it.")
            return self._objects[value["__ref__"]]
        if "__float__" in value:
            return float(value["__float__"])
        if "__tuple__" in value:
            return tuple(self.decode(v) for v in value["__tuple__"])
        if "__scalar__" in value:
            return _scalar(value)
        if "__dtype__" in value:
            spec = value["__dtype__"]
            return np.dtype(spec if isinstance(spec, str) else [tuple(f) for f in spec])
        if "__nptype__" in value:
            return np.dtype(value["__nptype__"]).type
        if "__path__" in value:
            return pathlib.Path(value["__path__"])
        if "__envspec__" in value:
            return str(value["__envspec__"])
        if "__type__" in value:
            return self.resolve(value["__type__"], "type")
        if "__function__" in value:
            return self.resolve(value["__function__"], "function")
        return self._shared(value)

    def _shared(self, value):
        ref = value.get("id")
        if "__ndarray__" in value:
            return self._keep(ref, self._read_array(value["__ndarray__"]))
        if "__objarray__" in value:
            items = value["__objarray__"]
            array = self._keep(ref, np.empty(len(items), dtype=object).reshape(value["shape"]))
            flat = array.reshape(-1)  # a view: filling it fills the registered array
            for i, item in enumerate(items):
                flat[i] = self.decode(item)
            return array
        if "__list__" in value:
            out = self._keep(ref, [])
            out.extend(self.decode(v) for v in value["__list__"])
            return out
        if "__dict__" in value or "__odict__" in value:
            out = self._keep(ref, {} if "__dict__" in value else OrderedDict())
            for k, v in value.get("__dict__", value.get("__odict__")):
                out[_hashable(self.decode(k))] = self.decode(v)
            return out
        if "__set__" in value:
            if value.get("frozen"):
                return self._keep(ref, frozenset(_hashable(self.decode(v))
                                                 for v in value["__set__"]))
            out = self._keep(ref, set())
            out.update(_hashable(self.decode(v)) for v in value["__set__"])
            return out
        if "__generator__" in value:
            name = value["__generator__"]
            if name not in BIT_GENERATORS:
                raise UntrustedTypeError(f"the file names bit generator {name!r}.", [name])
            bit_generator = getattr(np.random, name)()
            bit_generator.state = self.decode(value["state"])
            return self._keep(ref, np.random.Generator(bit_generator))
        if "__object__" in value:
            return self._object(value, ref)
        raise ValueError(f"not a value this format writes: keys {sorted(value)}.")

    def _keep(self, ref, obj):
        if ref is not None:
            self._objects[ref] = obj
        return obj

    def _object(self, value, ref):
        cls = self.resolve(value["__object__"], "object")
        if not isinstance(cls, type):
            raise UntrustedTypeError(f"the file names {value['__object__']!r} as a class; "
                                     "it is not one.", [value["__object__"]])
        obj = self._keep(ref, cls.__new__(cls))
        if "items" in value and issubclass(cls, list):
            list.extend(obj, (self.decode(v) for v in value["items"]))
        elif "items" in value and issubclass(cls, dict):
            for k, v in value["items"]:
                dict.__setitem__(obj, _hashable(self.decode(k)), self.decode(v))
        state = {key: self.decode(v) for key, v in value["state"].items()}
        setstate = getattr(cls, "__setstate__", None)
        # only this library's (or scikit-learn's encoders') own __setstate__ runs: where the
        # method is defined decides, so a trusted subclass restores as its base does
        owner = getattr(setstate, "__module__", None) or ""
        if setstate is not None and (_is_library(owner) or owner.startswith("sklearn.")):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
        return obj


_PRIVATE_LIBRARY_PARTS = ("_kernels", "_xp", "_demo")


def _callable_safely(cls):
    """Whether a class may be a value an estimator calls later (its constructor only
    builds a network, an optimizer, a scheduler, a callback or an estimator)."""
    from sklearn.base import BaseEstimator

    from sklears_neural.base._callbacks import Callback
    from sklears_neural.nn import Module
    from sklears_neural.optim import Optimizer
    from sklears_neural.optim.lr_scheduler import LRScheduler

    return issubclass(cls, (Module, Optimizer, LRScheduler, Callback, BaseEstimator))


def _scalar(value):
    dtype = np.dtype(value["__scalar__"])
    if dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize > 64:
        raise ValueError(f"the file holds a scalar of dtype {dtype!r}, which this format "
                         "never writes.")
    item = value["value"]
    if isinstance(item, dict):
        item = float(item["__float__"])
    elif dtype.kind == "c":
        item = complex(*item)
    elif dtype.kind == "S":
        item = bytes.fromhex(item)
    return np.array(item, dtype=dtype)[()]


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _walk(root, qualname):
    target = root
    for part in qualname.split("."):
        if not part or part.startswith("__"):
            return None
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


def _import_longest(name):
    """Import the longest prefix of ``name`` that is a module; the module's name and the
    rest of ``name`` found in it (None where absent)."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is not None and not module_name.startswith(error.name):
                raise  # the module exists but needs one that is missing
            continue
        return module_name, _walk(module, ".".join(parts[cut:]))
    raise ImportError(f"the file names {name!r}, whose module cannot be imported: install "
                      "or define it, then load again.")
