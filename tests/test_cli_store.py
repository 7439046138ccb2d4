"""The store commands: simulate --store, history, checkpoint, verify (store, bundle,
exit codes and the first bad event), store migrate."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paketflow._cli import main
from paketflow._store._sql import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent
SC1 = [
    str(ROOT / "processes" / "paket-tahap-tunggal.json"),
    str(ROOT / "processes" / "scenarios" / "sc-1-saigon-2012.json"),
]


@pytest.fixture
def sc1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """SC-1 simulated into an SQLite file; its URL."""
    url = f"sqlite:///{tmp_path / 'sc1.db'}"
    assert main(["simulate", *SC1, "--store", url]) == 0
    capsys.readouterr()
    return url


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """An Ed25519 key pair in PEM files (private, public)."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    private = tmp_path / "key.pem"
    public = tmp_path / "key.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def test_simulated_sc1_is_read_back_by_a_fresh_process(sc1: str) -> None:
    """A stored SC-1 reopened from another Python process has the final state and
    replays to its snapshot."""
    code = (
        "import paketflow, sys\n"
        f"store = paketflow.open_store({sc1!r})\n"
        "d = paketflow.load_definition(sys.argv[1])\n"
        "inst = store.load('saigon-2012')\n"
        "assert paketflow.replay(d, store.history('saigon-2012')) == inst\n"
        "print(inst.state, inst.version)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, SC1[0]], capture_output=True, text=True, check=True
    )
    assert done.stdout.split()[0] == "EVALUASI"


def test_history_prints_the_timeline(sc1: str, capsys: pytest.CaptureFixture[str]) -> None:
    """history names the instance, its definition and state, then one line per
    event."""
    assert main(["history", "--store", sc1, "saigon-2012"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("saigon-2012: paket-tahap-tunggal@1.0.0 (sha256:")
    assert lines[0].endswith("state EVALUASI, version 55")
    assert lines[1].split() == [
        "1",
        "2012-02-13T08:00:00+07:00",
        "started",
        "->",
        "DRAF",
        "faskel-saigon",
    ]
    assert len(lines) == 56


def test_history_of_unknown_instance(sc1: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown instance is an error on stderr, exit 2."""
    assert main(["history", "--store", sc1, "nope"]) == 2
    assert capsys.readouterr().err == (
        "paketflow history: no instance 'nope' in this store; start it with Engine.start() first\n"
    )


def test_checkpoint_verify_and_bundle(
    sc1: str, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """checkpoint signs; verify with the key exits 0; the exported bundle verifies
    offline with the public key alone."""
    private, public = keys
    assert main(["checkpoint", "--store", sc1, "--private-key", str(private)]) == 0
    assert capsys.readouterr().out == f"{sc1}: checkpoint #1 of 1 instances written\n"
    bundle = tmp_path / "audit.json"
    args = ["verify", "--store", sc1, "--public-key", str(public), "--export-bundle", str(bundle)]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        f"wrote 55 events to {bundle}\n{sc1}: intact (1 instances, 55 events, 1 checkpoints)\n"
    )
    assert main(["verify", "--bundle", str(bundle), "--public-key", str(public)]) == 0
    assert capsys.readouterr().out == f"{bundle}: intact (1 instances, 55 events, 1 checkpoints)\n"


def test_verify_names_the_first_bad_event(
    sc1: str, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row edited by hand: verify exits 1 and names (instance, seq) and what is
    wrong."""
    private, public = keys
    main(["checkpoint", "--store", sc1, "--private-key", str(private)])
    conn = sqlite3.connect(tmp_path / "sc1.db")
    conn.execute(
        "UPDATE events SET body = replace(body, 'lurah-saigon', 'lurah-saigoN') "
        "WHERE instance = 'saigon-2012' AND seq = 3"
    )
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["verify", "--store", sc1, "--public-key", str(public)]) == 1
    assert capsys.readouterr().out == (
        "saigon-2012 #3: hash does not match the body (content changed)\n"
        f"{sc1}: NOT intact: 1 problems (1 instances, 55 events, 1 checkpoints)\n"
    )


def test_verify_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--bundle without --public-key, and an unknown store scheme, exit 2 with a
    message."""
    assert main(["verify", "--bundle", str(tmp_path / "b.json")]) == 2
    assert capsys.readouterr().err == (
        "paketflow verify: --bundle needs --public-key FILE (the key that signs checkpoints)\n"
    )
    assert main(["verify", "--store", "mysql://x"]) == 2
    assert "has an unknown scheme" in capsys.readouterr().err


def test_store_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """store migrate reports the schema version and what it applied (opening a new
    store already applies every migration)."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["store", "migrate", url]) == 0
    assert capsys.readouterr().out == (
        f"{url}: schema version {SCHEMA_VERSION} (applied now: none, up to date)\n"
    )
    assert main(["store", "migrate", "memory://"]) == 2
    assert capsys.readouterr().err == (
        "paketflow store: memory://: a memory store has no schema to migrate\n"
    )


def test_simulate_into_a_bad_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """simulate --store with a store that cannot be opened exits 2 with the reason."""
    assert main(["simulate", *SC1, "--store", f"sqlite:///{tmp_path / 'no' / 'x.db'}"]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err


def test_readme_main_job_runs_as_written(tmp_path: Path) -> None:
    """The README's main-job command (after creating the virtual environment) runs in
    a fresh directory, twice, and ends with an intact store holding SC-1."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (command,) = re.findall(r"main job[^`]*?:\n\n```sh\n(.*?)\n```", readme, re.DOTALL)
    steps = command.split(" && ")
    start = next(i for i, step in enumerate(steps) if step.startswith("rm -f"))
    (tmp_path / "processes").symlink_to(ROOT / "processes")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    for _ in range(2):
        done = subprocess.run(
            ["bash", "-c", " && ".join(steps[start:])],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "sqlite:///sc-1.db: intact (1 instances, 55 events, 0 checkpoints)"
    )
    assert "+92 days" in (tmp_path / "sc-1.html").read_text(encoding="utf-8")
