"""Build the zero-install course site (`make lite`): JupyterLite with the release notebooks,
coursekit and every package they import, all served from the site itself.

Nothing is fetched at run time: the Pyodide runtime, its packages and coursekit sit in
`static/pyodide/` beside a trimmed `pyodide-lock.json`, the kernel is told to load them from
there (`pyodideUrl`) and never to ask PyPI (`disablePyPIFallback`).

Where each file comes from, and how it is checked before it goes into the site:

- the Pyodide core (`pyodide.js`, `pyodide.asm.wasm`, `python_stdlib.zip`, the official
  `pyodide-lock.json`): npm's `pyodide` package at PYODIDE_VERSION, its tarball checked against
  the integrity npm publishes (pinned below), the lock file against its pinned sha256;
- the Pyodide builds of numpy, matplotlib, pillow, ... (wasm wheels no reachable registry
  publishes): an official Pyodide distribution the instructor downloaded (PYODIDE_DIST=folder
  or .tar.bz2), else the copy of the same files that a PyPI package happens to ship
  (BUNDLE below). Either way every file must have the sha256 the official lock gives it, or
  the build stops;
- pure-Python wheels (IPython, autograd, ipywidgets, ...): PyPI, hash-pinned in
  `tools/lite/requirements.txt`;
- coursekit: a wheel built here from `course/coursekit`.

Downloads are cached outside the repository (LITE_CACHE, default
`~/.cache/autodiff-course-kit/lite`), so a rebuild reads only local files.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).with_name("requirements.txt")

PYODIDE_VERSION = "0.27.7"
PYODIDE_NPM_TARBALL = f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz"
PYODIDE_NPM_INTEGRITY = (
    "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
)
# sha256 of the official pyodide-lock.json of Pyodide 0.27.7 (the npm package's, the same file
# as the full distribution's): every package file is checked against the hashes it lists.
OFFICIAL_LOCK_SHA256 = "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c"
CORE_FILES = ["pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
              "python_stdlib.zip", "package.json"]

# Open WebUI's wheel ships Pyodide 0.27.7's own package files in a static folder (it runs
# Python in the browser too). Only the files the official lock vouches for are taken from it.
BUNDLE_NAME, BUNDLE_VERSION = "open-webui", "0.6.18"
BUNDLE_WHEEL_SHA256 = "db07840f872a32cc63276a6ba0356bb0847558727b86a558d8a6318b442f422d"
BUNDLE_FOLDER = "open_webui/frontend/pyodide/"

# What the kernel loads when it starts (with their dependencies from the lock). The Pyodide
# kernel installs ssl, sqlite3, comm, jedi and ipython itself unless they are listed here;
# listing them loads everything in one parallel batch from the site. sqlite3 (IPython's
# history database, which the kernel switches off; in no source here) is a stand-in, see
# SQLITE3_STAND_IN.
KERNEL_PACKAGES = ["micropip", "ssl", "sqlite3", "comm", "jedi", "ipython", "numpy",
                   "matplotlib", "tqdm", "autograd", "ipywidgets", "coursekit",
                   "coursekit-lite-startup"]
LEFT_OUT = {"sqlite3"}
# Lock entries for packages that are not in Pyodide's lock: their dependencies and imports.
EXTRA_PACKAGES = {
    "comm": {"depends": ["traitlets"], "imports": ["comm"]},
    "ipywidgets": {"depends": ["comm", "ipython", "traitlets"], "imports": ["ipywidgets"]},
}
COURSEKIT_DEPENDS = ["numpy", "matplotlib", "ipywidgets"]

# The JupyterLab extensions the site carries: the Pyodide kernel's (from this environment)
# and the widget manager (nbgrader's needs a Jupyter server, which a static site does not
# have). The widget manager is the last release built for JupyterLab 4.4, which JupyterLite
# 0.6 is (newer ones ask for the JupyterLab 4.6 packages and render no widget there); it
# speaks the same widget protocol as ipywidgets 8.1.9 in the kernel.
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
LAB_WIDGETS = ("jupyterlab-widgets", "3.0.15",
               "d59023d7d7ef71400d51e6fee9a88867f6e65e10a4201605d2d7f3e8f012a31c")
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"

# Run All in JupyterLab sends every cell at once; a cell tagged raises-exception is sent with
# stop_on_error false, so the kernel runs the cells below it anyway. JupyterLite 0.6.4's
# in-page kernel service cancels every queued cell on any error reply instead, so a student's
# first Run All would stop at the first exercise. These two edits of its built code (pinned
# version, each must match exactly once or the build stops) make it honour stop_on_error: the
# reply carries the request's stop_on_error in its metadata, and only a reply to a request
# that asked to stop cancels the queue.
RUN_ALL_PATCHES = [
    ('parentHeader:s.header,session:e.header.session,content:r})',
     'parentHeader:s.header,session:e.header.session,metadata:{stop_on_error:t.stop_on_error},'
     'content:r})'),
    ('"execute_reply"===e.header.msg_type&&"error"===e.content.status&&h.cancel()',
     '"execute_reply"===e.header.msg_type&&"error"===e.content.status'
     '&&!1!==e.metadata.stop_on_error&&h.cancel()'),
]

# Run in the kernel before the student's first cell (IPython runs $PYTHONSTARTUP at start):
# - Pyodide's matplotlib builds its font cache on first import in every new kernel and says so
#   on stderr, where in JupyterLab the cache is built once; the message is dropped;
# - the Pyodide kernel names an error "<class 'NotImplementedError'>" where ipykernel says
#   "NotImplementedError"; it is named as ipykernel does, so outputs read the same;
# - tqdm.auto draws its widget progress bar only under an IPKernelApp configuration, which
#   the Pyodide kernel has not, and otherwise writes text bars to stderr; it gets one. Its
#   monitor thread cannot start (Pyodide has no threads) and would warn on stderr: it is off.
STARTUP_MODULE = "coursekit_lite_startup"
STARTUP_SOURCE = '''"""Start-up of the in-browser course\'s kernel (tools/lite/build.py)."""


def _start():
    import logging

    from pyodide_kernel.interpreter import Interpreter

    logging.getLogger("matplotlib.font_manager").addFilter(
        lambda record: "building the font cache" not in record.getMessage())

    def _showtraceback(self, etype, evalue, stb):
        self._last_traceback = {"ename": getattr(etype, "__name__", str(etype)),
                                "evalue": str(evalue), "traceback": stb}

    Interpreter._showtraceback = _showtraceback

    from IPython import get_ipython
    from traitlets.config import Config

    shell = get_ipython()
    if shell is not None:
        shell.config.setdefault("IPKernelApp", Config())

    import tqdm

    tqdm.tqdm.monitor_interval = 0


_start()
del _start
'''


class BuildError(SystemExit):
    """A reason to stop the build, said in one sentence (exit status 1)."""

    def __init__(self, message: str):
        super().__init__(f"make lite: {message}")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    if os.environ.get("LITE_CACHE"):
        return Path(os.environ["LITE_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autodiff-course-kit" / "lite"


# --- the Pyodide core and the official lock ------------------------------------------------


def npm_tarball(cache: Path) -> Path:
    """npm's pyodide tarball, downloaded once and checked against its pinned integrity."""
    tarball = cache / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tarball.exists() or not integrity_matches(tarball):
        cache.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".part")
        if shutil.which("npm"):
            subprocess.run(["npm", "pack", f"pyodide@{PYODIDE_VERSION}", "--silent",
                            "--pack-destination", str(cache)], check=True,
                           stdout=subprocess.DEVNULL)
        else:  # the same file, straight from the npm registry
            print(f"downloading {PYODIDE_NPM_TARBALL}")
            with urllib.request.urlopen(PYODIDE_NPM_TARBALL, timeout=300) as response:
                partial.write_bytes(response.read())
            partial.replace(tarball)
        if not integrity_matches(tarball):
            tarball.unlink()
            raise BuildError(f"npm's pyodide@{PYODIDE_VERSION} tarball does not have the "
                             f"published integrity {PYODIDE_NPM_INTEGRITY}; refusing it")
    return tarball


def integrity_matches(tarball: Path) -> bool:
    algorithm, _, expected = PYODIDE_NPM_INTEGRITY.partition("-")
    digest = hashlib.new(algorithm, tarball.read_bytes()).digest()
    return base64.b64encode(digest).decode() == expected


def unpack_npm_core(cache: Path) -> Path:
    """The npm package's files, unpacked once into the cache."""
    target = cache / f"pyodide-{PYODIDE_VERSION}-npm"
    if not (target / "pyodide-lock.json").exists():
        tarball = npm_tarball(cache)
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                name = Path(member.name)
                if member.isfile() and len(name.parts) == 2 and name.parts[0] == "package":
                    target.mkdir(parents=True, exist_ok=True)
                    (target / name.name).write_bytes(archive.extractfile(member).read())
    return target


def instructor_distribution(cache: Path) -> Path | None:
    """PYODIDE_DIST: a Pyodide distribution folder, or its release .tar.bz2 (unpacked once)."""
    given = os.environ.get("PYODIDE_DIST")
    if not given:
        return None
    path = Path(given).expanduser().resolve()
    if path.is_dir():
        return distribution_folder(path, given)
    if path.is_file() and tarfile.is_tarfile(path):
        target = cache / "dist" / f"{path.name}-{sha256_of(path)[:16]}"
        if not target.exists():
            print(f"unpacking {path}")
            partial = target.with_name(target.name + ".part")
            shutil.rmtree(partial, ignore_errors=True)
            with tarfile.open(path) as archive:
                archive.extractall(partial, filter="data")
            partial.replace(target)
        return distribution_folder(target, given)
    raise BuildError(f"PYODIDE_DIST={given} is neither a folder nor a .tar.bz2 archive")


def distribution_folder(folder: Path, given: str) -> Path:
    """The folder inside a distribution that holds pyodide.js and the lock."""
    found = [p.parent for p in folder.rglob("pyodide-lock.json")]
    if not found:
        raise BuildError(f"PYODIDE_DIST={given} holds no pyodide-lock.json")
    return found[0]


def official_lock(core: Path) -> dict:
    lock_file = core / "pyodide-lock.json"
    found = sha256_of(lock_file)
    if found != OFFICIAL_LOCK_SHA256:
        raise BuildError(f"{lock_file} is not the official lock of Pyodide {PYODIDE_VERSION} "
                         f"(sha256 {found}, expected {OFFICIAL_LOCK_SHA256})")
    return json.loads(lock_file.read_text())


# --- package files -------------------------------------------------------------------------


def needed_packages(lock: dict) -> list[str]:
    """KERNEL_PACKAGES and their dependencies, as lock names (EXTRA_PACKAGES included)."""
    packages = {normalized(k): v for k, v in lock["packages"].items()}
    seen: list[str] = []

    def visit(name: str) -> None:
        name = normalized(name)
        if name in seen or name in LEFT_OUT or name in ("coursekit", "coursekit-lite-startup"):
            return
        seen.append(name)
        if name in packages:
            depends = packages[name]["depends"]
        elif name in EXTRA_PACKAGES:
            depends = EXTRA_PACKAGES[name]["depends"]
        else:
            raise BuildError(f"{name} is in neither Pyodide's lock nor EXTRA_PACKAGES")
        for dependency in depends:
            visit(dependency)

    for name in [*KERNEL_PACKAGES, *COURSEKIT_DEPENDS]:
        visit(name)
    return sorted(seen)


def pinned_requirements() -> dict[str, tuple[str, str]]:
    """requirements.txt as {name: (version, sha256)}."""
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if match:
            pins[normalized(match[1])] = (match[2], match[3])
    return pins


def pypi_wheels(cache: Path) -> dict[str, Path]:
    """The hash-pinned pure-Python wheels, downloaded once into the cache by pip."""
    folder = cache / "pypi"
    pins = pinned_requirements()
    found = {}
    for wheel in folder.glob("*.whl") if folder.exists() else []:
        name = normalized(wheel.name.split("-")[0])
        if name in pins and wheel.name.split("-")[1] == pins[name][0]:
            found[name] = wheel
    if set(found) != set(pins):
        pip_download(REQUIREMENTS, folder)
        return pypi_wheels(cache)
    for name, wheel in found.items():  # pip checked them; a cached file is checked again
        if sha256_of(wheel) != pins[name][1]:
            wheel.unlink()
            raise BuildError(f"cached {wheel} does not match its pinned sha256; removed it, "
                             "run the build again")
    return found


def lab_widgets_wheel(cache: Path) -> Path:
    """The widget manager's wheel (build time only: its lab extension goes into the site)."""
    name, version, sha256 = LAB_WIDGETS
    folder = cache / "lab"
    wheel = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    if not wheel.exists() or sha256_of(wheel) != sha256:
        folder.mkdir(parents=True, exist_ok=True)
        requirement = folder / "requirement.txt"
        requirement.write_text(f"{name}=={version} --hash=sha256:{sha256}\n")
        pip_download(requirement, folder)
    return wheel


def pip_download(requirements: Path, folder: Path) -> None:
    """pip, hash-checked, one exact file per line, no dependencies (each is listed)."""
    result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                             "--only-binary", ":all:", "--require-hashes", "-r",
                             str(requirements), "-d", str(folder)],
                            stderr=subprocess.PIPE, text=True)
    if result.returncode:
        raise BuildError(f"pip could not download {requirements}:\n{result.stderr[-3000:]}")


class Bundle:
    """Pyodide package files from a distribution folder, or else from the bundling wheel."""

    def __init__(self, cache: Path, distribution: Path | None):
        self.cache = cache
        self.distribution = distribution
        self._wheel: zipfile.ZipFile | None = None

    def source(self) -> str:
        if self.distribution:
            return f"the Pyodide distribution in PYODIDE_DIST ({self.distribution})"
        return f"PyPI {BUNDLE_NAME}=={BUNDLE_VERSION} (its static pyodide/ folder)"

    def wheel(self) -> zipfile.ZipFile:
        if self._wheel is None:
            folder = self.cache / "bundle"
            name = f"{BUNDLE_NAME.replace('-', '_')}-{BUNDLE_VERSION}-py3-none-any.whl"
            path = folder / name
            if not path.exists() or sha256_of(path) != BUNDLE_WHEEL_SHA256:
                print(f"downloading {BUNDLE_NAME}=={BUNDLE_VERSION} from PyPI once "
                      "(about 130 MB; only its Pyodide package files are used)")
                requirement = folder / "requirement.txt"
                folder.mkdir(parents=True, exist_ok=True)
                requirement.write_text(f"{BUNDLE_NAME}=={BUNDLE_VERSION} "
                                       f"--hash=sha256:{BUNDLE_WHEEL_SHA256}\n")
                pip_download(requirement, folder)
            self._wheel = zipfile.ZipFile(path)
        return self._wheel

    def fetch(self, file_name: str, target: Path) -> bool:
        """Copy file_name to target; False when this source does not have it."""
        if self.distribution:
            source = self.distribution / file_name
            if not source.exists():
                return False
            shutil.copyfile(source, target)
            return True
        cached = self.cache / "bundle" / "files" / file_name
        if not cached.exists():
            try:
                data = self.wheel().read(BUNDLE_FOLDER + file_name)
            except KeyError:
                return False
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(data)
        shutil.copyfile(cached, target)
        return True


def verify(path: Path, expected_sha256: str, origin: str) -> None:
    """Stop the build unless path has the sha256 the official lock gives it."""
    found = sha256_of(path)
    if found != expected_sha256:
        path.unlink()
        raise BuildError(
            f"{path.name} from {origin} has sha256 {found}, but Pyodide {PYODIDE_VERSION}'s "
            f"official lock says {expected_sha256}; refusing to serve it")


# --- coursekit ------------------------------------------------------------------------------


def coursekit_wheel(target_folder: Path) -> Path:
    """course/coursekit as its own py3-none-any wheel, byte-for-byte reproducible.

    It carries the 8x8 digits table (`coursekit/data/digits.csv.gz`, copied from the
    scikit-learn installed here), so notebook 05 needs no scikit-learn in the browser.
    """
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(),
                        re.M)[1]
    files: dict[str, bytes] = {}
    package = ROOT / "course" / "coursekit"
    for path in sorted(package.rglob("*.py")):
        files[f"coursekit/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("the digits table comes from scikit-learn, which is not installed")
    digits = Path(list(spec.submodule_search_locations)[0]) / "datasets/data/digits.csv.gz"
    files["coursekit/data/digits.csv.gz"] = digits.read_bytes()
    return make_wheel(target_folder, "coursekit", version, files, COURSEKIT_DEPENDS,
                      "Student-side support for the autodiff course")


# Pyodide's sqlite3 is in no source the build reads. IPython imports it at start for its
# history database, which the Pyodide kernel switches off (a dummy database); these names
# are all that import needs. Anything that really connects is told sqlite3 is not here.
SQLITE3_STAND_IN = '''"""Stand-in for sqlite3, which this JupyterLite site does not serve."""

PARSE_DECLTYPES = 1
PARSE_COLNAMES = 2


class Error(Exception):
    pass


class DatabaseError(Error):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class Connection:
    pass


def connect(*args, **kwargs):
    raise OperationalError("sqlite3 is not available in the browser version of the course")
'''


def placeholder_wheel(target_folder: Path, name: str) -> Path:
    """A small pure-Python stand-in for a Pyodide module the site leaves out (LEFT_OUT)."""
    if name != "sqlite3":
        raise BuildError(f"no stand-in is written for {name}")
    return make_wheel(target_folder, "sqlite3-stand-in", "1.0.0",
                      {"sqlite3/__init__.py": SQLITE3_STAND_IN.encode()}, [],
                      "Stands in for Pyodide's sqlite3, which this site does not serve")


def make_wheel(target_folder: Path, name: str, version: str, files: dict[str, bytes],
               requires: list[str], summary: str) -> Path:
    """A py3-none-any wheel of files, with fixed timestamps (the same bytes every build)."""
    files = dict(files)
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
        + "".join(f"Requires-Dist: {d}\n" for d in requires)).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: tools/lite/build.py\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/RECORD"] = ("".join(
        f"{path},sha256={record_hash(data)},{len(data)}\n" for path, data in files.items())
        + f"{info}/RECORD,,\n").encode()
    wheel = target_folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    wheel.write_bytes(buffer.getvalue())
    return wheel


def record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def built_entry(name: str, wheel: Path, imports: list[str], depends: list[str]) -> dict:
    return {"name": name, "version": wheel.name.split("-")[1], "file_name": wheel.name,
            "install_dir": "site", "sha256": sha256_of(wheel), "package_type": "package",
            "imports": imports, "depends": depends, "shared_library": False}


# --- the site -------------------------------------------------------------------------------


def assemble_pyodide(static: Path, cache: Path) -> list[dict]:
    """static/pyodide/: the core, every package file, and the trimmed lock pointing at them."""
    distribution = instructor_distribution(cache)
    core = distribution or unpack_npm_core(cache)
    lock = official_lock(core)
    if distribution:  # the instructor's lock must be the official one too (checked above)
        print(f"Pyodide from PYODIDE_DIST: {distribution}")
    static.mkdir(parents=True)
    for name in CORE_FILES:
        if (core / name).exists():
            shutil.copyfile(core / name, static / name)
        elif name != "package.json":
            raise BuildError(f"{core} has no {name}")
    bundle = Bundle(cache, distribution)
    wheels = pypi_wheels(cache)
    by_name = {normalized(k): v for k, v in lock["packages"].items()}
    trimmed: dict[str, dict] = {}
    provenance: list[dict] = []
    for name in needed_packages(lock):
        entry = dict(by_name.get(name, {}))
        if entry and bundle.fetch(entry["file_name"], static / entry["file_name"]):
            verify(static / entry["file_name"], entry["sha256"], bundle.source())
            origin = bundle.source()
        elif name in wheels:
            wheel = wheels[name]
            version = wheel.name.split("-")[1]
            if not entry:
                entry = {"name": name, "version": version, "install_dir": "site",
                         "package_type": "package", "shared_library": False,
                         **EXTRA_PACKAGES[name]}
            elif entry["version"] != version:
                raise BuildError(f"requirements.txt pins {name}=={version}; the lock has "
                                 f"{entry['version']}")
            shutil.copyfile(wheel, static / wheel.name)
            entry.update(file_name=wheel.name, sha256=sha256_of(wheel))
            entry.pop("unvendored_tests", None)
            origin = "PyPI (hash-pinned in tools/lite/requirements.txt)"
        else:
            raise BuildError(f"{name} ({entry.get('file_name', 'no lock entry')}) is in neither "
                             f"{bundle.source()} nor tools/lite/requirements.txt")
        entry["depends"] = [d for d in entry["depends"] if normalized(d) not in LEFT_OUT]
        trimmed[name] = entry
        provenance.append({"package": name, "version": entry["version"],
                           "file": entry["file_name"], "sha256": entry["sha256"],
                           "from": origin})
    built = [(built_entry("coursekit", coursekit_wheel(static), ["coursekit"],
                          COURSEKIT_DEPENDS), "course/coursekit, built by tools/lite/build.py")]
    built.append((built_entry("coursekit-lite-startup", make_wheel(
        static, "coursekit-lite-startup", "1.0.0",
        {f"{STARTUP_MODULE}.py": STARTUP_SOURCE.encode()}, [],
        "Kernel start-up of the in-browser course"), [STARTUP_MODULE], []),
        "written by tools/lite/build.py"))
    built += [(built_entry(name, placeholder_wheel(static, name), [name], []),
               "a stand-in module written by tools/lite/build.py") for name in sorted(LEFT_OUT)]
    for entry, origin in built:
        trimmed[entry["name"]] = entry
        provenance.append({"package": entry["name"], "version": entry["version"],
                           "file": entry["file_name"], "sha256": entry["sha256"],
                           "from": origin})
    lock = {"info": lock["info"], "packages": trimmed}
    (static / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True))
    return provenance


def release_notebooks() -> list[Path]:
    return sorted(ROOT.glob("course/[0-9][0-9]-*/*.ipynb"))


def write_lite_dir(lite_dir: Path, cache: Path) -> list[dict]:
    shutil.rmtree(lite_dir, ignore_errors=True)
    provenance = assemble_pyodide(lite_dir / "static" / "pyodide", cache)
    lock_info = json.loads((lite_dir / "static" / "pyodide" / "pyodide-lock.json").read_text())[
        "info"]
    for notebook in release_notebooks():
        target = lite_dir / "files" / notebook.relative_to(ROOT / "course")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, target)
    labextensions = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    extensions = [str(labextensions / KERNEL_EXTENSION), str(lab_widgets_wheel(cache))]
    config = {
        "LiteBuildConfig": {
            "apps": ["lab"],
            "contents": ["files"],
            "ignore_sys_prefix": ["federated_extensions"],
            "federated_extensions": extensions,
            "no_sourcemaps": True,
            "no_unused_shared_packages": True,
        },
    }
    (lite_dir / "jupyter_lite_config.json").write_text(json.dumps(config, indent=2))
    settings = {
        KERNEL_PLUGIN: {
            "pyodideUrl": "./static/pyodide/pyodide.js",
            "disablePyPIFallback": True,
            "loadPyodideOptions": {
                "packages": KERNEL_PACKAGES,
                "env": {"PYTHONSTARTUP": f"{site_packages(lock_info)}/{STARTUP_MODULE}.py"},
            },
        },
    }
    site = {"jupyter-lite-schema-version": 0,
            "jupyter-config-data": {
                "appName": "Autodiff course",
                # window.jupyterapp, which the browser tests drive (as with JupyterLab's
                # --expose-app-in-browser); a student's page can reach the app anyway
                "exposeAppInBrowser": "true",
                "litePluginSettings": settings,
            }}
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(site, indent=2))
    # no news or update prompt on a student's first visit
    overrides = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                                 "checkForUpdates": False},
                 # every cell on the page, as the tests' JupyterLab has it (and Ctrl+F finds
                 # text in any cell); the course's notebooks are small enough
                 "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}
    (lite_dir / "overrides.json").write_text(json.dumps(overrides, indent=2))
    return provenance


def site_packages(lock_info: dict) -> str:
    """Where Pyodide installs packages: /lib/python3.X/site-packages."""
    major, minor = lock_info["python"].split(".")[:2]
    return f"/lib/python{major}.{minor}/site-packages"


def patch_run_all(output: Path) -> None:
    """Apply RUN_ALL_PATCHES to the built JupyterLite code (see there why)."""
    for old, new in RUN_ALL_PATCHES:
        found = [p for p in (output / "build").glob("*.js") if old in p.read_text()]
        if len(found) != 1 or found[0].read_text().count(old) != 1:
            raise BuildError(f"JupyterLite's built code does not hold {old!r} exactly once; "
                             "RUN_ALL_PATCHES fits jupyterlite-core 0.6.4 only")
        found[0].write_text(found[0].read_text().replace(old, new))


def check_site(output: Path) -> None:
    """The built site loads Pyodide from itself and never falls back to PyPI."""
    config = json.loads((output / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][KERNEL_PLUGIN]
    if not kernel["pyodideUrl"].startswith("./") or not kernel["disablePyPIFallback"]:
        raise BuildError(f"jupyter-lite.json would load from elsewhere: {kernel}")
    lock = json.loads((output / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for entry in lock["packages"].values():
        served = output / "static" / "pyodide" / entry["file_name"]
        if not served.exists() or sha256_of(served) != entry["sha256"]:
            raise BuildError(f"the site's lock lists {entry['file_name']}, which is missing or "
                             "differs from its hash")


def size_of(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def build(output: Path, lite_dir: Path) -> None:
    cache = cache_dir()
    provenance = write_lite_dir(lite_dir, cache)
    shutil.rmtree(output, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir",
                    str(lite_dir), "--output-dir", str(output)], check=True, cwd=lite_dir,
                   stdout=subprocess.DEVNULL)
    patch_run_all(output)
    check_site(output)
    (output / "packages.json").write_text(json.dumps(
        {"pyodide": PYODIDE_VERSION, "packages": provenance}, indent=1))
    total, count = size_of(output)
    pyodide_total, _ = size_of(output / "static" / "pyodide")
    print(f"built {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}: "
          f"{total / 1e6:.1f} MB in {count} files (Pyodide {PYODIDE_VERSION} and "
          f"{len(provenance)} packages: {pyodide_total / 1e6:.1f} MB), "
          f"{len(release_notebooks())} notebooks; every package file matches its pinned hash")
    print(f"serve it with: python3 -m http.server -d {output} 8000  "
          "(then open http://127.0.0.1:8000/lab/index.html)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "output" / "lite")
    parser.add_argument("--lite-dir", type=Path, default=ROOT / "build" / "lite",
                        help="staging folder for jupyter lite build (default build/lite)")
    args = parser.parse_args(argv)
    build(args.output.resolve(), args.lite_dir.resolve())


if __name__ == "__main__":
    main()
