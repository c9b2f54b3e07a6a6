"""A local Tryton ERP server: for the Tryton connector's tests and the demo landscape.

Tryton is installed in its own venv, ``.venv-tryton`` (``make peers``, from
``demo/tryton-requirements.txt``): it is a peer system, never imported here.

Creating a Tryton database takes about 45 s, so it happens once per set of
pinned packages: :func:`build_template` runs ``trytond-admin`` with the
modules, seeds what a sale needs (currency EUR, a company, the admin user's
company, all countries, invoicing set to manual), and keeps the result under
``var/tryton/template-<hash>/``, keyed by the requirements file and
``SEED_VERSION``. Each server then starts from a copy made with SQLite's
backup API (Tryton runs SQLite in WAL mode: a file copy can miss committed
pages), which brings a start to about 3 s.

Usage::

    with TrytonServer(Path("var/tryton/demo")) as erp:
        erp.url, erp.database, erp.login, erp.password

Importable without Django settings: seeding talks JSON-RPC through
``integrations.adapters.tryton.client``, which needs only httpx.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx

from integrations.adapters.tryton.client import TrytonClient

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "demo" / "tryton-requirements.txt"
VENV = ROOT / ".venv-tryton"
CACHE_DIR = ROOT / "var" / "tryton"
MODULES = ("party", "product", "stock", "sale", "company", "currency", "country")
SEED_VERSION = 1  # bump when seed() changes, so cached templates are rebuilt
TEMPLATE_DB = "template"
ADMIN_LOGIN = "admin"
ADMIN_EMAIL = "admin@example.com"  # trytond-admin wants one; it must differ from the password
COMPANY_NAME = "Junction Demo Company"
SESSION_TIMEOUT = 3600  # Tryton's default of 300 s ends sessions in the middle of test runs
START_TIMEOUT = 60.0

Log = Callable[[str], None]


def _print(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def available(venv: Path = VENV) -> tuple[bool, str]:
    """Whether Tryton is installed in ``venv``, and if not, why."""
    for tool in ("trytond", "trytond-admin"):
        if not (venv / "bin" / tool).exists():
            return False, f"{venv / 'bin' / tool} is missing (run `make peers` to install Tryton)"
    return True, ""


def template_key() -> str:
    """What a template depends on: the pinned packages and the seed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + f"\nseed {SEED_VERSION}".encode())
    return digest.hexdigest()[:16]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, port: int) -> Path:
    """A trytond.conf for SQLite databases in ``folder``, listening on loopback ``port``."""
    config = folder / "trytond.conf"
    config.write_text(
        f"[database]\nuri = sqlite://\npath = {folder}\n\n"
        f"[web]\nlisten = 127.0.0.1:{port}\n\n"
        f"[session]\ntimeout = {SESSION_TIMEOUT}\n"
    )
    return config


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database with the backup API, which includes pages still in the WAL file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


# --- The template -------------------------------------------------------------------------------


@contextmanager
def _locked(folder: Path):
    """One builder at a time: two test sessions starting together wait for the first build."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_template(cache_dir: Path = CACHE_DIR, *, venv: Path = VENV, log: Log = _print) -> Path:
    """The folder of the template database (``template.sqlite`` and ``admin-password``), built if missing."""
    final = cache_dir / f"template-{template_key()}"
    with _locked(cache_dir):
        if (final / "ready").exists():
            return final
        staging = cache_dir / f"building-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        started = time.monotonic()
        log(f"Tryton: building the template database in {final} (about 45 s, once)")
        try:
            _create_database(staging, venv, log)
            log("Tryton: seeding currency, company, countries")
            server = TrytonServer(staging, database=TEMPLATE_DB, venv=venv, log=log, template=False)
            with server, server.client() as client:
                seed(client)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(final, ignore_errors=True)
        (staging / "ready").write_text(template_key())
        staging.rename(final)
        log(f"Tryton: template ready in {time.monotonic() - started:.0f} s")
        return final


def _create_database(folder: Path, venv: Path, log: Log) -> None:
    (folder / "admin-password").write_text(secrets.token_urlsafe(18))
    (folder / f"{TEMPLATE_DB}.sqlite").touch()  # trytond-admin only initialises an existing file
    config = write_config(folder, free_port())
    cmd = [str(venv / "bin" / "trytond-admin"), "-c", str(config), "-d", TEMPLATE_DB, "--all"]
    cmd += ["--email", ADMIN_EMAIL, "-u", *MODULES, "--activate-dependencies"]
    log(f"Tryton: trytond-admin -u {' '.join(MODULES)} (about 35 s)")
    env = {**os.environ, "TRYTONPASSFILE": str(folder / "admin-password")}
    with open(folder / "trytond-admin.log", "w") as output:
        done = subprocess.run(cmd, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if done.returncode:
        tail = (folder / "trytond-admin.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"trytond-admin failed with exit code {done.returncode}:\n{tail}")


def seed(client: TrytonClient) -> None:
    """What every Junction-facing Tryton needs: EUR, a company the admin works in, countries.

    Invoicing is set to manual so a confirmed sale goes on to its shipment without a
    chart of accounts (invoicing from the order needs revenue accounts on every product).
    The default warehouse (code WH) and unit "u" come with the stock and product modules.
    """
    import pycountry  # Junction's own dependency; only the build needs it

    eur = client.create(
        "currency.currency",
        [
            {
                "name": "Euro",
                "code": "EUR",
                "symbol": "€",
                "numeric_code": "978",
                "digits": 2,
                "rounding": Decimal("0.01"),
            }
        ],
    )[0]
    party = client.create("party.party", [{"name": COMPANY_NAME}])[0]
    company = client.create("company.company", [{"party": party, "currency": eur}])[0]
    user_id = client.session[0]
    client.write("res.user", [user_id], {"companies": [["add", [company]]], "company": company})
    client.refresh_context()  # the company is part of it from now on
    countries = [
        {"code": c.alpha_2, "code3": c.alpha_3, "code_numeric": c.numeric, "name": c.name} for c in pycountry.countries
    ]
    client.create("country.country", countries)
    client.write("sale.configuration", [1], {"sale_invoice_method": "manual"})


# --- A running server ---------------------------------------------------------------------------


class TrytonServer:
    """``trytond`` on a free loopback port, serving ``database`` from ``folder``.

    The database is copied from the template the first time (``fresh=True`` replaces an
    existing one). ``start()`` waits until ``common.server.version`` answers; ``stop()``
    terminates the process. Also a context manager.
    """

    login = ADMIN_LOGIN

    def __init__(
        self,
        folder: Path,
        *,
        database: str = "junction",
        cache_dir: Path = CACHE_DIR,
        venv: Path = VENV,
        log: Log = _print,
        fresh: bool = False,
        port: int | None = None,
        template: bool = True,
    ):
        self.folder = Path(folder).resolve()
        self.database, self.cache_dir, self.venv, self.log = database, cache_dir, venv, log
        self.fresh, self.template = fresh, template
        self.port: int | None = port  # None: a free one when started
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password(self) -> str:
        return (self.folder / "admin-password").read_text().strip()

    @property
    def db_path(self) -> Path:
        return self.folder / f"{self.database}.sqlite"

    @property
    def log_path(self) -> Path:
        return self.folder / "trytond.log"

    def prepare(self) -> None:
        """Copy the template database (and its admin password) here, unless one is kept."""
        if not self.template or (self.db_path.exists() and not self.fresh):
            return
        source = build_template(self.cache_dir, venv=self.venv, log=self.log)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(f"{self.database}.sqlite*"):
            leftover.unlink()
        copy_database(source / f"{TEMPLATE_DB}.sqlite", self.db_path)
        shutil.copy(source / "admin-password", self.folder / "admin-password")

    def start(self) -> TrytonServer:
        ok, reason = available(self.venv)
        if not ok:
            raise RuntimeError(reason)
        self.prepare()
        self.port = self.port or free_port()
        config = write_config(self.folder, self.port)
        cmd = [str(self.venv / "bin" / "trytond"), "-c", str(config), "-d", self.database]
        with open(self.log_path, "a") as output:
            self.process = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trytond exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                body = {"id": 0, "method": "common.server.version", "params": []}
                if httpx.post(f"{self.url}/rpc/", json=body, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"trytond did not answer on {self.url} within {START_TIMEOUT:g} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, size: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-size:] if self.log_path.exists() else ""

    def client(self, **options) -> TrytonClient:
        """A JSON-RPC client logged in as the admin user."""
        return TrytonClient(self.url, self.database, self.login, self.password, **options)

    def __enter__(self) -> TrytonServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
