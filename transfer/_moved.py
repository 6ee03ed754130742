"""The modules of the flat layout before 0.2, importable under their old names for one
release, with a DeprecationWarning that names the new place."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

#: old module (under transfer.) -> the modules that now hold its names
MOVED = {
    "lut": ("classical.lut", "classical.cube", "classical.frames"),
    "regions": ("classical.regions",),
    "temporal": ("neural.frames", "classical.frames", "shot"),
    "labels": ("neural.labels", "neural.clusters", "pyramid"),
    "local_affine": ("neural.affine",),
    "scale": ("neural.scale",),
    "chroma_classifier": ("colorization.classifier",),
}


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        package, _, old = name.rpartition(".")
        if package == "transfer" and old in MOVED:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        old = spec.name.rpartition(".")[2]
        new = [f"transfer.{m}" for m in MOVED[old]]
        warnings.warn(f"{spec.name} is now {' and '.join(new)}; the old name will be removed",
                      DeprecationWarning, stacklevel=2)
        module = types.ModuleType(spec.name)
        for name in new:
            real = importlib.import_module(name)
            module.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
        return module

    def exec_module(self, module):
        pass


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
