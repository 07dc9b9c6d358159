# mlcompat --deep: import one module in this child process and report what it says, as one JSON object.
# argv[1] is the module name (dotted names such as mlx.core are imported as such). Each module runs in its
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
out = {"module": name, "warnings": []}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        module = importlib.import_module(name)
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
        out["import"] = " ".join(text.split())[:600]
    for w in caught:
        out["warnings"].append("%s: %s" % (w.category.__name__, w.message))
print(json.dumps(out))
