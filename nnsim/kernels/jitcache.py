"""Numba's on-disk cache, keyed on every kernel source file rather than one.

Numba stamps a cached function with a hash of the file that defines it, but constants and
helpers imported from another file (the catalogue's codes, `fused_output`) are frozen into the
compiled code: editing `catalogue.py` alone would leave stale kernels on a developer's disk.
`install()` puts a cache locator in front of Numba's own that stamps the kernels of this
package with a hash of all its `.py` files, so any change to any of them recompiles them.
Functions defined elsewhere keep Numba's usual locators.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from numba.core import caching

KERNELS_DIR = Path(__file__).resolve().parent


def sources_hash(folder: Path = KERNELS_DIR) -> bytes:
    """sha256 over the names and contents of the folder's .py files, in name order."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.digest()


class _PackageStamp:
    """Mixin: the source stamp is the hash of every .py file beside the function's file."""

    _py_file: str

    def get_source_stamp(self) -> bytes:
        return sources_hash(Path(self._py_file).resolve().parent)

    @classmethod
    def from_function(cls, py_func, py_file):  # type: ignore[no-untyped-def]
        if Path(py_file).resolve().parent != KERNELS_DIR:
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


def _stamped(base: type) -> type:
    return type(f"Package{base.__name__}", (_PackageStamp, base), {})


# the same order as Numba's own: NUMBA_CACHE_DIR, beside the source, then the user's cache dir
_LOCATORS = [_stamped(caching.UserProvidedCacheLocator), _stamped(caching.InTreeCacheLocator),
             _stamped(caching.UserWideCacheLocator)]


def install() -> None:
    """Put the package-stamped locators first (once; safe to call again)."""
    classes = caching.CacheImpl._locator_classes
    if classes[:len(_LOCATORS)] != _LOCATORS:
        classes[:0] = _LOCATORS
