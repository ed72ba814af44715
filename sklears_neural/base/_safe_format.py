"""``save`` / ``load``: a fitted estimator (or network) in a zip of JSON and ``.npy``
arrays, which loading reads without running anything the file names.

The zip holds ``sklears_neural.json`` (the format, the versions of this
library, NumPy and scikit-learn, the saved object's class, and its state as
``_codec`` encodes it) and ``arrays/<k>.npy`` (every array, read back with
``allow_pickle=False``).
"""

import io as _io
import json
import os
import zipfile

import numpy as np

from sklears_neural._versions import check_versions, library_versions, versions_checked
from sklears_neural.base._codec import Decoder, Encoder, UntrustedTypeError, class_name

__all__ = ["FORMAT", "get_untrusted_types", "load", "load_metadata", "save"]

FORMAT = "sklears-neural model"
FORMAT_VERSION = 1
HEADER = "sklears_neural.json"


def save(obj, path, *, metadata=None):
    """Save a fitted estimator of this library (or an ``nn.Module``) to ``path``.

    The file is a zip of JSON and ``.npy`` arrays: no pickle, so loading it
    never runs code from it. It keeps everything ``predict``,
    ``partial_fit`` and ``warm_start`` need (the parameters, the network's
    weights, the optimizer's and scheduler's state, the random state, the
    history) and the versions of this library, NumPy and scikit-learn.

    Parameters
    ----------
    obj : estimator or nn.Module
        What to save; fitted or not.
    path : str or path-like
        The file to write (replaced if it exists). Its directory must exist.
    metadata : dict, optional
        JSON-serialisable notes kept in the file (``load_metadata`` reads
        them).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    FileNotFoundError
        If the directory of ``path`` does not exist.
    TypeError
        If ``obj`` holds something that cannot be saved by name (a lambda
        as a parameter, say); the message says where.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path!r}: the directory {folder!r} does not "
                                "exist; create it first (os.makedirs).")
    encoder = Encoder()
    tree = encoder.encode(obj, path=type(obj).__name__)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "versions": library_versions(), "class": class_name(type(obj)),
              "metadata": metadata or {}, "object": tree}
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"cannot save the metadata: it must be JSON ({error}).") from error
    partial = path + ".partial"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(HEADER, text)
        for member, array in encoder.arrays.items():
            buffer = _io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            archive.writestr(member, buffer.getvalue())
    os.replace(partial, path)  # a crash while writing never leaves a torn file
    return path


def _read_header(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no file {path!r}.")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path!r} is not a file saved by sklears_neural.io.save (not a zip; "
                         "a pickle or joblib file loads with joblib.load, from a trusted "
                         "source only).") from error
    try:
        header = json.loads(archive.read(HEADER))
    except KeyError as error:
        archive.close()
        raise ValueError(f"{path!r} is a zip, but not one saved by sklears_neural.io.save "
                         f"(no {HEADER}).") from error
    except ValueError as error:
        archive.close()
        raise ValueError(f"{path!r}: its {HEADER} is not valid JSON.") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        archive.close()
        raise ValueError(f"{path!r} is not a file saved by sklears_neural.io.save.")
    if header.get("format_version", 0) > FORMAT_VERSION:
        archive.close()
        raise ValueError(f"{path!r} was written in format version {header['format_version']}, "
                         f"newer than this library reads ({FORMAT_VERSION}): upgrade "
                         "sklears-neural.")
    return archive, header


def _array_reader(archive):
    cache = {}  # each member is read once, however often the file refers to it

    def read(member):
        if not isinstance(member, str) or not member.startswith("arrays/"):
            raise ValueError(f"the file refers to an array member {member!r}.")
        if member in cache:  # only a crafted file refers to a member twice
            return cache[member]
        with archive.open(member) as handle:
            try:
                array = np.load(_io.BytesIO(handle.read()), allow_pickle=False)
            except ValueError as error:  # a pickled object array: refused, not run
                raise ValueError(f"array {member!r} of the file is not a plain array "
                                 f"({error}); loading never unpickles.") from error
        if not isinstance(array, np.ndarray):
            raise ValueError(f"member {member!r} of the file is not one .npy array.")
        cache[member] = array
        return array
    return read


def load(path, *, trusted=None):
    """Load what ``save`` wrote.

    Only this library's classes are created, plus those named in
    ``trusted`` and subclasses of this library's ``nn.Module`` or
    ``Callback`` whose module is already imported (a network of one's own:
    import it before loading). Nothing else the file names is imported or
    run; ``get_untrusted_types`` lists what a file would need.

    Parameters
    ----------
    path : str or path-like
        The file.
    trusted : list of str, optional
        Full names (``module.QualName``) of further classes or functions
        the file may use; their modules are imported.

    Returns
    -------
    object
        The estimator or network, as it was saved.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not one ``save`` wrote.
    UntrustedTypeError
        If the file names a class or function not allowed (a ``TypeError``).

    Warns
    -----
    InconsistentVersionWarning
        For each of this library, NumPy and scikit-learn whose version
        differs from the one the file was saved with.
    """
    archive, header = _read_header(path)
    with archive:
        decoder = Decoder(_array_reader(archive), trusted=trusted)
        refused = decoder.untrusted(header["object"])
        if refused:
            raise UntrustedTypeError(
                f"{os.fspath(path)!r} names classes or functions that loading does not create "
                f"or call unless trusted: {refused}. Import your own network's class before "
                f"loading, or, if you trust the file, pass trusted={refused}.", refused)
        check_versions(header.get("versions"), header.get("class", "the saved object"))
        with versions_checked():  # the header's versions were checked once, above
            return decoder.decode(header["object"])


def get_untrusted_types(path):
    """The names in a saved file that ``load`` would refuse without ``trusted``.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    list of str
        Full names (``module.QualName``), sorted; empty when it loads as it is.
    """
    archive, header = _read_header(path)
    with archive:
        return Decoder(_array_reader(archive)).untrusted(header["object"])


def load_metadata(path):
    """The header of a saved file, without loading the object.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    dict
        "class", "versions", "format_version" and the "metadata" given to
        ``save``.
    """
    archive, header = _read_header(path)
    archive.close()
    return {key: header.get(key) for key in ("class", "versions", "format_version",
                                             "metadata")}
