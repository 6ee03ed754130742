"""Builds transfer._C (always) and transfer._cuda (when CMake finds a CUDA compiler) with CMake.

Environment switches, passed to CMake:
  TRANSFER_NO_CUDA=1       skip the CUDA module
  TRANSFER_FORCE_CUDA=1    fail when no CUDA compiler is found
  CMAKE_CUDA_ARCHITECTURES override the pinned default architecture list
  CMAKE_BUILD_PARALLEL_LEVEL  parallel build jobs (default: all cores)
"""

import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "on", "true", "yes")


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    """One CMake run builds every module; setuptools then ships those that were built."""

    def build_extensions(self):
        self._cmake(Path(self.get_ext_fullpath("transfer._C")).resolve().parent)
        self.extensions = [e for e in self.extensions if Path(self.get_ext_fullpath(e.name)).exists()]

    def _cmake(self, out_dir):
        import pybind11

        # A fixed build folder keeps rebuilds incremental (editable installs use a new temp dir).
        build_dir = ROOT / "build" / f"cmake-py{sys.version_info[0]}{sys.version_info[1]}"
        build_dir.mkdir(parents=True, exist_ok=True)
        args = [
            f"-S{ROOT}",
            f"-B{build_dir}",
            f"-DTRANSFER_OUTPUT_DIR={out_dir}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DTRANSFER_NO_CUDA={'ON' if _flag('TRANSFER_NO_CUDA') else 'OFF'}",
            f"-DTRANSFER_FORCE_CUDA={'ON' if _flag('TRANSFER_FORCE_CUDA') else 'OFF'}",
        ]
        if os.environ.get("CMAKE_CUDA_ARCHITECTURES"):
            args.append(f"-DCMAKE_CUDA_ARCHITECTURES={os.environ['CMAKE_CUDA_ARCHITECTURES']}")
        try:
            import ninja  # noqa: F401

            args.append("-GNinja")
        except ImportError:
            pass
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", *args], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--parallel", jobs], check=True)


setup(
    ext_modules=[CMakeExtension("transfer._C"), CMakeExtension("transfer._cuda")],
    cmdclass={"build_ext": CMakeBuild},
)
