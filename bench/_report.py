"""Shared by the benchmark scripts: what machine ran them, and writing one section of
``docs/benchmarks.md``.

Each script owns one section, fenced by ``<!-- bench:NAME:start -->`` and
``<!-- bench:NAME:end -->``; :func:`write_section` replaces what lies between its own
markers and leaves every other section alone. Import it from a script in ``bench/`` as
``from _report import machine_summary, write_section``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures measured by the scripts in `bench/`. Each section below is rewritten by the "
    "script it names, so rerun the script rather than editing the figures.\n"
)
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def markers(name: str) -> tuple[str, str]:
    """The start and end marker lines of section ``name``."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"section name {name!r}: use lower-case letters, digits, '_', '.', '-'")
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def write_section(name: str, markdown: str, *, path: Path = DOC) -> Path:
    """Put ``markdown`` between the markers of section ``name`` in ``path``.

    Creates the file (with a ``# Benchmarks`` heading) if it is missing and appends the
    section if its markers are; otherwise only the text between the markers changes. Raises
    ValueError rather than guess when the markers are duplicated, unpaired or out of order.
    The file is rewritten atomically, under a lock, so scripts may run side by side.
    """
    start, end = markers(name)
    if "<!-- bench:" in markdown:
        raise ValueError("the section text must not contain bench markers")
    block = f"{start}\n{markdown.strip()}\n{end}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        text = path.read_text(encoding="utf-8") if path.exists() else HEADER
        lines = text.splitlines(keepends=True)
        starts = [i for i, line in enumerate(lines) if line.strip() == start]
        ends = [i for i, line in enumerate(lines) if line.strip() == end]
        if not starts and not ends:
            text = text.rstrip("\n") + "\n\n" + block
        elif len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0]:
            text = "".join(lines[: starts[0]]) + block + "".join(lines[ends[0] + 1 :])
        else:
            raise ValueError(
                f"{path}: the markers of section '{name}' are unpaired, repeated or out of "
                f"order (start on lines {[i + 1 for i in starts]}, end on lines "
                f"{[i + 1 for i in ends]}); fix them by hand"
            )
        _replace(path, text)
    return path


def machine_summary(packages: Iterable[str] = ("pledge", "casbin", "cedarpy")) -> str:
    """A markdown bullet list: when, on what machine and software, a benchmark ran."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical cores" + (f" ({usable} usable here)" if usable else "")
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load average at start " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    versions = ", ".join(f"{p} {_version(p)}" for p in packages)
    items = [
        f"Date: {now}",
        f"Platform: `{platform.platform()}`, processor `{platform.processor() or 'n/a'}`",
        f"CPU: {_cpu_model()}, {cores}{load}",
        f"Python: {platform.python_implementation()} {platform.python_version()}",
        f"Packages: {versions}",
    ]
    commit = _commit()
    if commit:
        items.append(f"Commit: `{commit}` (HEAD at run time; the working tree may differ)")
    return "\n".join(f"- {item}" for item in items)


def command_line() -> str:
    """The command that started this process, with paths relative to the repository."""
    words = [_relative(sys.executable), _relative(sys.argv[0]), *sys.argv[1:]]
    return " ".join(words)


def _relative(name: str) -> str:
    path = Path(name)
    if not path.is_absolute():
        return name
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return name


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "cpu model"):
                return value.strip()
    return platform.processor() or "unknown CPU"


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (POSIX); a no-op where flock is missing."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
