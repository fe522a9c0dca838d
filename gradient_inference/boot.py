"""Run by the package's __init__: where Python writes no bytecode beside us, keep it in <cache folder>/pycache."""

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

    class CachedLoader(SourceFileLoader):  # PYTHONDONTWRITEBYTECODE=1 or a read-only folder: no recompiling per call
        def get_code(self, fullname: str):
            saved = sys.pycache_prefix, sys.dont_write_bytecode
            sys.pycache_prefix, sys.dont_write_bytecode = os.path.join(CACHE, "pycache"), False
            try:
                return super().get_code(fullname)
            finally:
                sys.pycache_prefix, sys.dont_write_bytecode = saved

    try:
        os.makedirs(CACHE, mode=0o700, exist_ok=True)  # private, as the price cache keeps its folder
        for folder in [HERE, *(e.path for e in os.scandir(HERE) if e.is_dir() and e.name.isidentifier())]:
            sys.path_importer_cache[folder] = FileFinder(folder, (CachedLoader, [".py"]))  # our folders only
    except OSError:  # no cache folder to be had: compile as Python would
        pass
