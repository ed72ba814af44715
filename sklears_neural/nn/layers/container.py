"""Containers of modules."""

from collections import OrderedDict

from sklears_neural.nn._module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Apply modules one after another.

    Parameters
    ----------
    *modules : Module, or a single OrderedDict of name -> Module
        The layers, in order; named ``"0"``, ``"1"``, ... unless given by name.

    Raises
    ------
    TypeError
        If an entry is not a Module.

    Examples
    --------
    >>> from sklears_neural import nn
    >>> net = nn.Sequential(nn.Linear(64, 32, activation="relu"), nn.Linear(32, 10))
    >>> len(net)
    2
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            items = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: {name!r} is a {type(module).__name__}, not a Module.")
            self.add_module(name, module)

    def forward(self, input):
        """Apply the modules one after another.

        Parameters
        ----------
        input : Tensor
            The input of the first module.

        Returns
        -------
        Tensor
            The output of the last module (``input`` itself when there is none).
        """
        for module in self._modules.values():
            input = module(input)
        return input

    def append(self, module):
        """Add ``module`` at the end.

        Parameters
        ----------
        module : Module
            The module, named by its position.

        Returns
        -------
        Sequential
            ``self``.
        """
        self.add_module(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]
