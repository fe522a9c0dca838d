"""Imported first by every command: where Python keeps no bytecode beside our modules (PYTHONDONTWRITEBYTECODE=1,
a read-only folder) and so would recompile them on every call, keep it in <cache folder>/pycache instead."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("GRADIENT_CACHE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gradient-inference"
)

if sys.dont_write_bytecode or not os.access(HERE, os.W_OK):
    try:  # importlib.machinery's classes, from the bootstrap CPython has loaded already (importlib costs ~0.5 ms)
        from _frozen_importlib_external import FileFinder, SourceFileLoader
    except ImportError:  # another Python
        from importlib.machinery import FileFinder, SourceFileLoader

    class CachedLoader(SourceFileLoader):
        """SourceFileLoader whose .pyc for gradient_* modules lives under CACHE/pycache (the stdlib's pycache_prefix)."""

        def get_code(self, fullname: str):
            if not fullname.startswith("gradient_"):  # installed in site-packages: leave other packages alone
                return super().get_code(fullname)
            saved = sys.pycache_prefix, sys.dont_write_bytecode
            sys.pycache_prefix, sys.dont_write_bytecode = os.path.join(CACHE, "pycache"), False
            try:
                return super().get_code(fullname)
            finally:
                sys.pycache_prefix, sys.dont_write_bytecode = saved

    try:
        os.makedirs(CACHE, mode=0o700, exist_ok=True)  # private, as the price cache keeps its folder
        sys.path_importer_cache[HERE] = FileFinder(HERE, (CachedLoader, [".py"]))
    except OSError:  # no cache folder to be had: compile as Python would
        pass
