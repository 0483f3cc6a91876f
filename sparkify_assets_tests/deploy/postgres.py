"""A throwaway PostgreSQL server from Debian's packages, for the deployment test.

`initdb` into a fresh temporary folder, then `postgres` on a free loopback port with its socket in that
folder, password authentication (scram-sha-256) for one user, and one database. As root (CI) both run as the
`postgres` user, which owns the folder: PostgreSQL refuses to run as root. Durability is off (fsync): the
server lives as long as one test. It is stopped by its PID (SIGINT: PostgreSQL's fast shutdown) and the folder
removed, also when the test fails.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from sparkify_assets_tests.ui.dagster_ui import free_port


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    db: str
    user: str
    password: str
    pid: int

    def connect(self) -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host=self.host, port=self.port, dbname=self.db, user=self.user, password=self.password, connect_timeout=5
        )

    def environment(self) -> dict[str, str]:
        """The settings deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db,
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
        }


def postgres_bin() -> Path | None:
    """SPARKIFY_POSTGRES_BIN, or Debian's newest /usr/lib/postgresql/<version>/bin, or `initdb` on the PATH."""
    configured = os.environ.get("SPARKIFY_POSTGRES_BIN")
    if configured:
        return Path(configured)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@contextmanager
def postgres_server(
    bin_dir: Path, db: str = "dagster", user: str = "dagster", timeout: float = 30
) -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="sparkify-postgres-"))
    # As root, PostgreSQL must run as another user: `postgres`, which Debian's package creates.
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    as_owner = {"user": owner.pw_uid, "group": owner.pw_gid} if owner else {}
    password = secrets.token_hex(16)
    (root / "pwfile").write_text(password + "\n")
    if owner:
        for path in (root, root / "pwfile"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    process = None
    try:
        initdb = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", user, f"--pwfile={root / 'pwfile'}"]
            + ["--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=root,  # the postgres user may not enter the test's own folder
            **as_owner,
        )
        if initdb.returncode != 0:
            raise AssertionError(f"initdb failed ({initdb.returncode}):\n{initdb.stderr}")
        port = free_port()
        with (root / "postgres.log").open("wb") as log:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(root / "data"), "-h", "127.0.0.1", "-p", str(port)]
                + ["-k", str(root), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=root,
                **as_owner,
            )
        server = Postgres("127.0.0.1", port, "postgres", user, password, process.pid)
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection = server.connect()
                break
            except psycopg2.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"postgres did not start:\n{(root / 'postgres.log').read_text()}") from None
                time.sleep(0.2)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:  # autocommit: CREATE DATABASE runs outside a transaction
                cursor.execute(f'CREATE DATABASE "{db}"')
        finally:
            connection.close()
        yield Postgres("127.0.0.1", port, db, user, password, process.pid)
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(root, ignore_errors=True)


def stop(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGINT (fast shutdown: clients disconnected, no wait for them), then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
