# mlcompat's interpreter probe: run once per interpreter (the answer is cached), prints one JSON object.
# Standard library only, no imports of installed packages, so it is fast and cannot be broken by them.
# Nothing is imported from the folder mlcompat was started in: it runs the interpreter in a neutral folder
# with PYTHONSAFEPATH=1 (Python 3.11+ then leaves '' off sys.path), and for older Pythons the first
# statement drops '' before any import. PYTHONPATH and the user's site-packages stay, as pip sees them.
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import json  # noqa: E402 - after the path is made safe
import os  # noqa: E402
import platform  # noqa: E402


def shown(path):
    # A path that is not UTF-8 (its bytes decoded with surrogateescape), readable: \xff for the odd bytes.
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def exact(path):
    # A sys.path folder exactly: its bytes in hex when they are not UTF-8 (JSON text cannot carry them).
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": raw.hex()}


print(json.dumps({
    "version": platform.python_version(),
    "implementation": sys.implementation.name if hasattr(sys, "implementation") else platform.python_implementation().lower(),
    "machine": platform.machine(),
    "executable": shown(sys.executable),
    "prefix": shown(sys.prefix),
    "path": [exact(p) for p in sys.path if p and os.path.isdir(p)],
}))
