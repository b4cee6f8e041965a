"""Finding the built spiqa tools (spiqa-extract, spiqa-quantize, spiqa-hist, spiqa-eval)."""
import os
import shutil
from pathlib import Path

TOOLS = ("spiqa-extract", "spiqa-quantize", "spiqa-hist", "spiqa-eval")


def tool_dirs():
    """Where tools are looked for, in order: ``$SPIQA_BIN``; the ``.build/release`` and ``.build-test/release``
    of the current directory and of the checkout this package sits in (when used from ``python/src``)."""
    dirs = []
    if os.environ.get("SPIQA_BIN"):
        dirs.append(Path(os.environ["SPIQA_BIN"]))
    roots = [Path.cwd()]
    here = Path(__file__).resolve()
    if len(here.parents) > 3 and here.parents[1].name == "src" and here.parents[2].name == "python":
        roots.append(here.parents[3])
    for root in roots:
        for build in (".build/release", ".build-test/release"):
            dirs.append(root / build)
    return dirs


def find_tool(name):
    """The path of a spiqa tool: ``$SPIQA_BIN``, then ``PATH``, then the checkout's release builds."""
    env = os.environ.get("SPIQA_BIN")
    if env and (Path(env) / name).is_file():
        return str(Path(env) / name)
    found = shutil.which(name)
    if found:
        return found
    for d in tool_dirs():
        p = d / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    raise FileNotFoundError(f"{name} not found: set SPIQA_BIN to the folder of the built tools "
                            f"(e.g. .build/release after `swift build -c release`) or put them on PATH")
