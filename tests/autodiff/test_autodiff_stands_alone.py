"""The reference package stands alone: numpy only, nothing from the course's `coursekit`."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "solutions" / "autodiff"
# numpy, tqdm (nn's training loop shows a progress bar) and the standard library.
ALLOWED = {"numpy", "tqdm", "autodiff", "__future__", *sys.stdlib_module_names}


def test_no_module_of_autodiff_imports_coursekit_or_another_package():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            outside = {n.split(".")[0] for n in names} - ALLOWED
            assert not outside, f"{path.name} imports {outside}; autodiff needs numpy only"


def test_importing_autodiff_loads_no_coursekit_and_no_matplotlib():
    code = ("import sys, autodiff, autodiff.nn\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120).stdout
    assert "'coursekit'" not in loaded and "'matplotlib'" not in loaded, loaded
