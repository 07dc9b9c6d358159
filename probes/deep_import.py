# mlcompat --deep: run one import in this child process and report what it says, as one JSON object.
# argv[1] is the module (dotted names such as mlx.core are imported as such); argv[2:] are names taken from
# it as `from module import name` does: an attribute (a lazy package's __getattr__ runs, as vLLM's does for
# LLM) or else the submodule module.name. Nothing from argv is executed as code. Each import runs in its
# own process with its own timeout, so a broken or slow package cannot take the doctor down. Warnings
# raised while importing and inspecting the module (torch's "sm_121 is not compatible with the current
# PyTorch installation") are recorded and reported too.
# Run like python_info.py: the first statement drops '' (the current folder) from sys.path, so a
# `./torch.py` is never what gets imported.
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
import importlib  # noqa: E402 - after the path is made safe
import json  # noqa: E402
import warnings  # noqa: E402

name = sys.argv[1]
names = sys.argv[2:]
out = {"module": name, "warnings": []}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        module = importlib.import_module(name)
        for attr in names:
            try:
                getattr(module, attr)
            except AttributeError:
                importlib.import_module(name + "." + attr)
        out["import"] = "ok"
        out["version"] = str(getattr(module, "__version__", ""))
        if name == "torch":
            cuda = module.cuda
            available = bool(cuda.is_available())
            out["torch"] = {
                "version": str(module.__version__),
                "cuda": module.version.cuda,
                "cuda_available": available,
                "device_count": int(cuda.device_count()) if available else 0,
                "device_capability": ".".join(map(str, cuda.get_device_capability(0))) if available else None,
                "arch_list": list(cuda.get_arch_list()) if module.version.cuda else [],
                "mps_available": bool(getattr(module.backends, "mps", None) and module.backends.mps.is_available()),
            }
        elif name == "mlx.core":
            out["device"] = str(module.default_device())
        elif name == "jax":
            out["devices"] = [str(d) for d in module.devices()]
        elif name == "bitsandbytes":
            lib = getattr(getattr(module, "cextension", None), "lib", None)
            out["library"] = str(getattr(lib, "_name", "") or "")
    except BaseException as e:  # noqa: BLE001 - any failure, even SystemExit from a package, is the answer
        text = "%s: %s" % (type(e).__name__, e)
        # Where it was raised: the last frames say which package's import broke (a masked error in one
        # package is often another's).
        import traceback  # noqa: E402
        frames = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith("<frozen") and "/importlib/" not in f.filename][-2:]
        where = "; ".join("%s:%d" % (f.filename.replace(sys.prefix, "…"), f.lineno) for f in frames)
        out["import"] = " ".join(text.split())[:600]
        out["where"] = where[:600]
    for w in caught:
        out["warnings"].append("%s: %s" % (w.category.__name__, w.message))
print(json.dumps(out))
