"""A real OpenSSH server for the Files adapter's SFTP tests.

``start_sshd(workdir)`` runs Debian's ``/usr/sbin/sshd`` in the foreground on a
free loopback port with a throwaway ed25519 host key and a throwaway client
key. ``root`` logs in with that key only (root's password is locked on these
machines, so any password is refused: exactly what the wrong-password test
needs). SFTP is the in-process ``internal-sftp``; paths are the test's tmp
folders, as root may read and write them.

Why sshd rather than an in-process server: it is the peer people run in
production, with its own rename, permission and error semantics.
Install it with ``apt-get install -y openssh-server``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
# sshd's privilege-separation directory is compiled in; Debian's init script creates it.
PRIVSEP_DIR = Path("/run/sshd")


@dataclass
class SshdPeer:
    host: str
    port: int
    username: str
    host_key_fingerprint: str  # "SHA256:…", as ssh-keygen -lf prints it
    client_key_pem: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sshd_available() -> tuple[bool, str]:
    """Whether a real sshd can be started here, and if not, why."""
    if not Path(SSHD).exists():
        return False, f"{SSHD} is missing (apt-get install -y openssh-server)"
    if not shutil.which(SSH_KEYGEN):
        return False, f"{SSH_KEYGEN} is missing (apt-get install -y openssh-client)"
    if os.geteuid() != 0:
        return False, "sshd must start as root to log users in"
    return True, ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path) -> str:
    """A new ed25519 key pair at ``path`` (and ``path.pub``); returns its SHA256 fingerprint."""
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    printed = subprocess.run([SSH_KEYGEN, "-lf", f"{path}.pub"], check=True, capture_output=True, text=True)
    return printed.stdout.split()[1]


def start_sshd(workdir: Path, timeout: float = 15) -> SshdPeer:
    """Start sshd in ``workdir`` and wait until it answers with its SSH banner."""
    workdir.mkdir(parents=True, exist_ok=True)
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    host_key, client_key = workdir / "host_ed25519", workdir / "client_ed25519"
    fingerprint = keygen(host_key)
    keygen(client_key)
    authorized = workdir / "authorized_keys"
    shutil.copy(f"{client_key}.pub", authorized)
    port = free_port()
    config = workdir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"Port {port}",
                f"HostKey {host_key}",
                f"PidFile {workdir / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PermitRootLogin yes",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                # The tmp folders are not laid out as a home directory would be.
                "StrictModes no",
                "Subsystem sftp internal-sftp",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    subprocess.run([SSHD, "-t", "-f", str(config)], check=True, capture_output=True)
    log_path = workdir / "sshd.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    peer = SshdPeer(
        host="127.0.0.1",
        port=port,
        username="root",
        host_key_fingerprint=fingerprint,
        client_key_pem=client_key.read_text(),
        process=process,
        log_path=log_path,
    )
    wait_for_banner(peer, timeout)
    return peer


def wait_for_banner(peer: SshdPeer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if peer.process.poll() is not None:
            raise RuntimeError(f"sshd exited with {peer.process.returncode}:\n{peer.log()}")
        try:
            with socket.create_connection((peer.host, peer.port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-2.0-"):
                    return
        except OSError:
            time.sleep(0.1)
    peer.stop()
    raise RuntimeError(f"sshd did not answer on port {peer.port} within {timeout}s:\n{peer.log()}")
