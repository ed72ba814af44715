"""Write ``api.rst``: every public name of every public module (the ``__all__`` of
``sklears_neural`` and of each submodule whose name has no leading underscore),
one autosummary table per module, so the reference cannot miss a name."""

import importlib
import pkgutil

SKIPPED = ("sklears_neural.__main__",)


def public_modules():
    """The public modules, depth first, each with its sorted ``__all__``."""
    import sklears_neural

    found = []
    stack = [sklears_neural]
    while stack:
        module = stack.pop(0)
        names = sorted(getattr(module, "__all__", ()))
        if names:
            found.append((module.__name__, names))
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            name = f"{module.__name__}.{info.name}"
            if info.name.startswith("_") or name in SKIPPED:
                continue
            try:
                stack.append(importlib.import_module(name))
            except ImportError:  # an optional dependency (CuPy) is missing
                continue
    return found


def write(path):
    """Write the reference page listing every public name."""
    lines = ["API reference", "=============", "",
             "Every public name, by module (the names each module's ``__all__`` exports).",
             "Classes and functions link to their own page.", ""]
    seen = set()
    for module_name, names in public_modules():
        module = importlib.import_module(module_name)
        entries, constants = [], []
        for name in names:
            obj = getattr(module, name, None)
            if obj is None or isinstance(obj, type(module)) or isinstance(obj, str):
                continue  # submodules have their own section, __version__ is text
            key = (id(obj), name)  # an alias under another name is listed too
            if key in seen:
                continue  # documented where it is first exported under this name
            seen.add(key)
            if callable(obj):
                entries.append(name)
            else:  # data: named with its value, it has no docstring of its own
                constants.append(f"- ``{module_name}.{name}`` = ``{obj!r}``")
        if not entries and not constants:
            continue
        title = f"``{module_name}``"
        lines += [title, "-" * len(title), "", f".. automodule:: {module_name}",
                  "   :no-members:", ""]
        if entries:
            lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
            lines += [f"   {entry}" for entry in entries]
            lines.append("")
        if constants:
            lines += ["Constants:", ""] + constants + [""]
    text = "\n".join(lines)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
