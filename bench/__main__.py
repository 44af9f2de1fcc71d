"""Run every benchmark: `make bench`, or `python -m bench` with DATABASE_URL set.

`python -m bench sharing` (or any benchmark's name) runs only the ones named.

The database must be a fresh, empty PostgreSQL database (`bin/with-postgres` makes
one): the benchmarks migrate it and write thousands of audit rows that, by design,
cannot be deleted. Each benchmark prints a short table and rewrites its own section
of bench/RESULTS.md, leaving the other sections as they were.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = """# Benchmark results

Written by `make bench`, which runs `bench/` against a throwaway PostgreSQL server.
Each benchmark compares a variant with a baseline measured in the same run on the
same machine; the ratio is the result, the absolute times only describe the machine.
Each section below is rewritten when its benchmark runs again.
"""


def _begin(key: str) -> str:
    return f"<!-- bench:{key} begin -->"


def _end(key: str) -> str:
    return f"<!-- bench:{key} end -->"


def write_section(key: str, text: str, path: Path = RESULTS) -> None:
    """Replace the section between this benchmark's markers, or append it."""
    current = path.read_text(encoding="utf-8") if path.exists() else HEADER
    block = f"{_begin(key)}\n{text.rstrip()}\n{_end(key)}"
    pattern = re.compile(re.escape(_begin(key)) + r".*?" + re.escape(_end(key)), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current)
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(updated, encoding="utf-8")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _cpu_model() -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.MULTILINE)
    return match.group(1).strip() if match else (platform.processor() or "unknown")


def _memory() -> str:
    match = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    return f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else "unknown"


def _system() -> str:
    match = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', _read("/etc/os-release"), re.MULTILINE)
    release = re.match(r"\d+(\.\d+)?", platform.release())
    kernel = f"{platform.system()} {release.group(0) if release else ''}".strip()
    return f"{match.group(1)}, {kernel}" if match else kernel


def _host() -> dict[str, str]:
    """The computer, without the database."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return {
        "CPU": _cpu_model(),
        "Cores": f"{cores}" + (f" ({usable} usable by this process)" if usable != cores else ""),
        "Memory": _memory(),
        "System": _system(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import django
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        settings: dict[str, str] = {}
        for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes"):
            cursor.execute(f"SHOW {name}")
            row = cursor.fetchone()
            settings[name] = str(row[0]) if row else "?"
    host = str(connection.settings_dict.get("HOST") or "")
    where = "this machine" if host in {"", "localhost", "127.0.0.1", "::1"} else "another host"
    return {
        **_host(),
        "Django": django.get_version(),
        "psycopg": psycopg.__version__,
        "PostgreSQL": f"{settings['server_version'].split()[0]}, on {where}",
        "PostgreSQL durability": (
            f"fsync={settings['fsync']}, synchronous_commit={settings['synchronous_commit']}, "
            f"full_page_writes={settings['full_page_writes']}"
        ),
    }


def _prepare_database() -> None:
    """Refuse anything but an empty PostgreSQL database, then create the schema."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The benchmarks run on PostgreSQL: run them with `make bench`.")
    if connection.introspection.table_names():
        sys.exit(
            "The database named by DATABASE_URL is not empty. The benchmarks write audit "
            "rows that cannot be deleted, so they only run on a fresh database: use "
            "`make bench`."
        )
    call_command("migrate", interactive=False, verbosity=0)


BENCHMARKS = ("audit_write", "sharing", "linkage")  # modules of this package, run in this order
# Benchmarks that use no database: run on their own, they need no DATABASE_URL.
WITHOUT_DATABASE = frozenset({"linkage"})


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        sys.exit(f"Unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}.")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if names and set(names) <= WITHOUT_DATABASE and not os.environ.get("DATABASE_URL"):
        about = _host()
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        if not os.environ.get("DATABASE_URL"):
            sys.exit("DATABASE_URL is not set: run the benchmarks with `make bench`.")
        import django

        django.setup()
        _prepare_database()
        about = machine()
    print("Machine: " + "; ".join(f"{name} {value}" for name, value in about.items()))
    print()

    for name in BENCHMARKS:
        if names and name not in names:
            continue
        benchmark = importlib.import_module(f"bench.{name}")
        result = benchmark.run()
        print(benchmark.table(result))
        write_section(name, benchmark.markdown(result, date=date, machine=about))
        print()
    print(f"Results written to {os.path.relpath(RESULTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
