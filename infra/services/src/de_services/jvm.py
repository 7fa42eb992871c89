"""What the JVM services share: finding Java, resolving Maven jars into the cache, tool venvs."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from de_services.probes import which
from de_services.runtime import ASSETS, Runtime
from de_services.service import NotInstalled

_COMPLETE = ".complete"
# Pinned sets for the tool venvs, refreshed by `nox -s lock`.
LOCKS = Path(__file__).parent / "toolvenvs"


def java_home() -> Path:
    """$JAVA_HOME when it holds bin/java, else the JDK behind `java` on PATH."""
    env = os.environ.get("JAVA_HOME")
    if env and (Path(env) / "bin" / "java").exists():
        return Path(env)
    found = shutil.which("java")
    if found is None:
        raise NotInstalled(
            "java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
        )
    return Path(os.path.realpath(found)).parent.parent


def java() -> str:
    """The java executable."""
    return str(java_home() / "bin" / "java")


def javac() -> str:
    """The javac executable: a JDK, not a JRE, is needed to compile launchers."""
    path = java_home() / "bin" / "javac"
    if not path.exists():
        raise NotInstalled("needs a JDK, not a JRE (apt-get install openjdk-17-jdk-headless)")
    return str(path)


def heap(rt: Runtime, default: str) -> str:
    """A JVM's max heap: $DE_<SERVICE>_HEAP, else `default` (two cores shared by everybody)."""
    return os.environ.get(f"DE_{rt.service.name.upper()}_HEAP", default)


@contextlib.contextmanager
def cache_lock(cache_dir: Path, name: str) -> Iterator[None]:
    """One provisioner at a time per cache item (parallel pytest sessions share the cache)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def jar_dir(rt: Runtime, profile: str) -> Path:
    """Where `provision` copies the jars of one Maven profile."""
    return rt.cache_dir / "jars" / profile


def classpath(rt: Runtime, profile: str, *first: Path) -> str:
    """A java -cp value: extra folders first, then every jar of the profile (JVM wildcard)."""
    return os.pathsep.join([*(str(p) for p in first), str(jar_dir(rt, profile) / "*")])


def jars_ready(rt: Runtime, profile: str) -> bool:
    """True when the profile's jars were copied completely from the current pom."""
    marker = jar_dir(rt, profile) / _COMPLETE
    try:
        return marker.read_text().strip() == _pom_digest(rt)
    except OSError:
        return False


def _pom_digest(rt: Runtime) -> str:
    pom = ASSETS / "pom.xml"
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def resolve_jars(rt: Runtime, profile: str, timeout: float = 900.0) -> Path:
    """Copy a pom profile's runtime jars into the cache once (re-done when the pom changes)."""
    target = jar_dir(rt, profile)
    with cache_lock(rt.cache_dir, f"jars-{profile}"):
        if jars_ready(rt, profile):
            return target
        mvn = which("mvn")
        if mvn is None:
            raise NotInstalled(f"{rt.service.name}: mvn not found (apt-get install maven)")
        pom = ASSETS / "pom.xml"
        # Copy into a fresh folder and swap it in, so an interrupted copy never looks complete.
        staging = target.with_name(f"{profile}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        argv = [mvn, "-q", "-B", "-f", str(pom), "-P", profile]
        argv += ["dependency:copy-dependencies", f"-DoutputDirectory={staging}"]
        rt.run(argv, timeout=timeout)
        (staging / _COMPLETE).write_text(_pom_digest(rt))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        return target


def compiled(rt: Runtime, source: Path, profile: str) -> Path:
    """A classes folder with `source` compiled against the profile's jars, built once per version.

    Keyed by a hash of the source and the pom (the jars it compiles against), so a JVM start only
    loads the class instead of compiling the single source file again (about 2 s of CPU).
    """
    if not source.exists():
        raise NotInstalled(f"{rt.service.name}: launcher {source} is missing")
    digest = hashlib.sha256(source.read_bytes() + _pom_digest(rt).encode()).hexdigest()[:16]
    folder = rt.cache_dir / "classes"
    target = folder / f"{source.stem}-{digest}"
    if (target / _COMPLETE).exists():
        return target
    with cache_lock(rt.cache_dir, f"classes-{source.stem}"):
        if (target / _COMPLETE).exists():
            return target
        # Compile into a fresh folder and swap it in, so an interrupted build never looks complete.
        staging = folder / f"{target.name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        argv = [javac(), "-nowarn", "-cp", classpath(rt, profile), "-d", str(staging), str(source)]
        rt.run(argv, timeout=300)
        (staging / _COMPLETE).write_text(digest)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        return target


def run_java_tool(
    rt: Runtime,
    profile: str,
    main_class: str,
    args: Sequence[str],
    jvm_opts: Sequence[str] = (),
    cp_first: Sequence[Path] = (),
) -> int:
    """Run a Java main class from the profile's jars with the caller's stdio; its exit code."""
    argv = [java(), *jvm_opts, "-cp", classpath(rt, profile, *cp_first), main_class, *args]
    try:
        return subprocess.run(argv, check=False).returncode
    except KeyboardInterrupt:
        return 130


def tool_python(rt: Runtime, venv: str) -> Path:
    """The python of a tool venv under the cache folder."""
    return rt.cache_dir / "venvs" / venv / "bin" / "python"


def tool_venv(rt: Runtime, venv: str, timeout: float = 900.0) -> Path:
    """Create (once) a venv under the cache with exactly the pins of `toolvenvs/<venv>.txt`; its folder."""
    folder = rt.cache_dir / "venvs" / venv
    wanted = (LOCKS / f"{venv}.txt").read_text()
    marker = folder / _COMPLETE
    with cache_lock(rt.cache_dir, f"venv-{venv}"):
        with contextlib.suppress(OSError):
            if marker.read_text() == wanted:
                return folder
        uv = which("uv", str(Path(sys.executable).parent))
        if uv is None:
            raise NotInstalled(f"{rt.service.name}: uv not found (pip install uv)")
        shutil.rmtree(folder, ignore_errors=True)
        # The launcher's own interpreter: uv must never try to download a Python.
        rt.run([uv, "venv", "-q", "-p", sys.executable, str(folder)], timeout=120)
        rt.run(
            [
                uv,
                "pip",
                "sync",
                "-q",
                "-p",
                str(folder / "bin" / "python"),
                str(LOCKS / f"{venv}.txt"),
            ],
            timeout=timeout,
        )
        marker.write_text(wanted)
        return folder
