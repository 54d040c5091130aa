"""scripts/neo4j-local, scripts/neo4j/Launcher.java and scripts/test.sh, run as a user runs them.

Ports 17691-17699 only (17687 and 17688 belong to `make test` and `make bench`). The cheap tests
need no Java: their NEO4J_LOCAL_HOME has a fake, "complete" lib directory and they fail before
a JVM would start. The others use the jars `scripts/neo4j-local fetch` put in .neo4j/lib, share
one small server (512m heap) and skip without the jars, except on CI, where they must run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "neo4j-local"
LAUNCHER = ROOT / "scripts" / "neo4j" / "Launcher.java"
JARS = ROOT / ".neo4j" / "lib"

SERVER_PORT = 17691  # the shared real server
LAUNCHER_PORT = 17692  # Launcher.java alone, on a taken port
TAKEN_PORT = 17693  # a silent listener holds it
STALE_PORT = 17694  # stale pidfiles
TEST_SH_PORT = 17699  # never bound: scripts/test.sh runs against a stub neo4j-local

PASSWORD = "relgraph-pw-1"


def require_jars() -> None:
    if (JARS / ".complete").is_file() and shutil.which("java"):
        return
    reason = f"no Neo4j jars in {JARS} or no java (scripts/neo4j-local fetch needs Java 17, mvn)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"must run on CI: {reason}")
    pytest.skip(reason)


def neo4j_local(command: str, home: Path, port: int, password: str = PASSWORD,
                lib: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), command], env=settings(home, port, password, lib),
                          capture_output=True, text=True, timeout=timeout)


def settings(home: Path, port: int, password: str = PASSWORD,
             lib: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_LOCAL_")}
    env.update(NEO4J_LOCAL_HOME=str(home), NEO4J_LOCAL_PORT=str(port),
               NEO4J_LOCAL_PASSWORD=password, NEO4J_LOCAL_HEAP="512m",
               NEO4J_LOCAL_PAGECACHE="64m", NEO4J_LOCAL_TIMEOUT="150")
    if lib is not None:
        env["NEO4J_LOCAL_LIB"] = str(lib)
    return env


@pytest.fixture
def fake_home(tmp_path: Path) -> Path:
    """A home whose lib counts as fetched (so no mvn), though no jar is there."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / ".complete").touch()
    return tmp_path


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """TAKEN_PORT held by a socket that accepts connections and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", TAKEN_PORT))
        s.listen()
        yield TAKEN_PORT


def launcher_pids(home: Path) -> list[int]:
    """Every Launcher JVM running for this home."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"Launcher.java") for a in args) and any(
                a.startswith(str(home).encode() + b"/") for a in args):
            pids.append(int(cmdline.parent.name))
    return pids


def can_log_in(port: int, password: str) -> bool:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", password)) as driver:
        try:
            driver.execute_query("RETURN 1")
        except AuthError:
            return False
    return True


# --- no Java needed --------------------------------------------------------------------------


def test_env_output_survives_eval_with_a_nasty_password(fake_home: Path) -> None:
    password = "it's \"quoted\" $HOME `id` \\ ; & * spaced\tand\nnewline"
    env = neo4j_local("env", fake_home, STALE_PORT, password)
    assert env.returncode == 0, env.stderr
    shown = subprocess.run(
        ["bash", "-c", 'eval "$1" && printf %s "$NEO4J_PASSWORD|$NEO4J_URI"', "-", env.stdout],
        capture_output=True, text=True, check=True).stdout
    assert shown == f"{password}|bolt://127.0.0.1:{STALE_PORT}"


def test_a_password_neo4j_would_refuse_is_said_before_starting(fake_home: Path) -> None:
    """Neo4j refuses an initial password under 8 characters with a Java stack trace: the
    script says the rule instead, and starts nothing."""
    started = neo4j_local("start", fake_home, STALE_PORT, "short", timeout=30)
    assert started.returncode == 1
    assert started.stderr.strip() == (
        'neo4j-local: NEO4J_LOCAL_PASSWORD must be at least 8 characters (Neo4j\'s rule), or '
        '"none" to turn auth off')
    assert not (fake_home / f"server-{STALE_PORT}" / "neo4j.pid").exists()


@pytest.fixture(params=["sleep", "launcher-of-another-home"])
def unrelated_process(request: pytest.FixtureRequest,
                      tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not our server: a plain sleep, or one whose command line looks
    like a Launcher for the same port but another home."""
    if request.param == "sleep":
        cmd = ["sleep", "1000"]
    else:
        other = tmp_path / "other" / f"server-{STALE_PORT}" / "home"
        cmd = [sys.executable, "-c", "import time; time.sleep(1000)",
               "Launcher.java", str(other), str(STALE_PORT), PASSWORD, "64m"]
    proc = subprocess.Popen(cmd)
    yield proc
    proc.kill()
    proc.wait()


def test_a_stale_pidfile_is_removed_and_its_process_left_alone(
        fake_home: Path, unrelated_process: subprocess.Popen[bytes]) -> None:
    pidfile = fake_home / f"server-{STALE_PORT}" / "neo4j.pid"
    pidfile.parent.mkdir()
    pid = unrelated_process.pid

    def alive() -> bool:
        return unrelated_process.poll() is None

    pidfile.write_text(f"{pid}\n")
    status = neo4j_local("status", fake_home, STALE_PORT)
    assert status.returncode == 3 and status.stdout.strip() == "not running"
    assert "stale pidfile" in status.stderr and not pidfile.exists()

    pidfile.write_text(f"{pid}\n")
    stop = neo4j_local("stop", fake_home, STALE_PORT)
    assert stop.returncode == 0, stop.stderr
    assert "stale pidfile" in stop.stderr and "not running" in stop.stderr
    assert not pidfile.exists()
    time.sleep(0.2)
    assert alive(), "stop signalled a process that is not its server"

    # start must not take it for a running server (it then fails on the port, held on purpose
    # so that no JVM is started here).
    pidfile.write_text(f"{pid}\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", STALE_PORT))
        s.listen()
        start = neo4j_local("start", fake_home, STALE_PORT, timeout=30)
    assert "already running" not in start.stderr
    assert "stale pidfile" in start.stderr and start.returncode != 0
    assert alive()


def test_start_fails_at_once_when_the_port_is_taken_by_a_silent_listener(
        fake_home: Path, silent_listener: int) -> None:
    began = time.monotonic()
    start = neo4j_local("start", fake_home, silent_listener, timeout=60)
    took = time.monotonic() - began
    assert start.returncode == 1
    assert f"port {silent_listener} is in use" in start.stderr
    assert took < 10, f"took {took:.1f}s"
    assert not (fake_home / f"server-{silent_listener}" / "neo4j.pid").exists()
    assert launcher_pids(fake_home) == []


def _fake_repo(tmp_path: Path, start_behaviour: str) -> tuple[Path, Path, dict[str, str]]:
    """A copy of scripts/test.sh among stubs that log their name: ruff, mypy, python, java, mvn
    and a neo4j-local whose `start` does start_behaviour."""
    repo, bin_dir, calls = tmp_path / "repo", tmp_path / "bin", tmp_path / "calls"
    (repo / "scripts").mkdir(parents=True)
    (repo / ".venv" / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    shutil.copy(ROOT / "scripts" / "test.sh", repo / "scripts" / "test.sh")
    log_call = f'echo "$(basename "$0") $*" >>{calls}\n'
    stubs = {repo / "scripts" / "neo4j-local":
             f'#!/usr/bin/env bash\n{log_call}if [ "$1" = start ]; then {start_behaviour}; fi\n'}
    for name in ("ruff", "mypy", "python"):
        stubs[repo / ".venv" / "bin" / name] = f"#!/bin/sh\n{log_call}"
    for name in ("java", "mvn"):
        stubs[bin_dir / name] = "#!/bin/sh\n"
    for path, text in stubs.items():
        path.write_text(text)
        path.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RELGRAPH_", "NEO4J_")) and k != "CI"}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", NEO4J_TEST_PORT=str(TEST_SH_PORT))
    return repo, calls, env


def test_test_sh_stops_neo4j_when_its_start_fails(tmp_path: Path) -> None:
    repo, calls, env = _fake_repo(tmp_path, "exit 1")
    run = subprocess.run(["bash", str(repo / "scripts" / "test.sh")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert calls.read_text().splitlines() == ["ruff check .", "mypy ", "neo4j-local start",
                                              "neo4j-local stop"]


def test_test_sh_stops_neo4j_when_interrupted_during_start(tmp_path: Path) -> None:
    repo, calls, env = _fake_repo(tmp_path, "sleep 30")
    proc = subprocess.Popen(["bash", str(repo / "scripts" / "test.sh")], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while "neo4j-local start" not in (calls.read_text() if calls.exists() else ""):
            assert time.monotonic() < deadline, "test.sh never started neo4j"
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert calls.read_text().splitlines()[-2:] == ["neo4j-local start", "neo4j-local stop"]


# --- the real thing ---------------------------------------------------------------------------


def test_the_launcher_exits_at_once_when_its_port_is_taken(
        tmp_path: Path, silent_listener: int) -> None:
    require_jars()
    began = time.monotonic()
    run = subprocess.run(
        ["java", "-Xmx512m", "-cp", f"{JARS}/*", str(LAUNCHER), str(tmp_path / "home"),
         str(silent_listener), PASSWORD, "64m"],
        capture_output=True, text=True, timeout=120)
    took = time.monotonic() - began
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"port {silent_listener} is in use" in run.stderr
    assert took < 12, f"took {took:.1f}s"  # Neo4j itself only finds out after ~15 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One real server on SERVER_PORT, started by two concurrent `start`s."""
    require_jars()
    home = tmp_path_factory.mktemp("neo4j-home")
    env = settings(home, SERVER_PORT, PASSWORD, JARS)
    starts = [subprocess.Popen([str(SCRIPT), "start"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        outcomes = [(p.wait(timeout=240), p.communicate()[1]) for p in starts]
        yield {"home": home, "starts": outcomes, "pids": launcher_pids(home)}
    finally:
        for p in starts:
            if p.poll() is None:
                p.kill()
                p.wait()
        neo4j_local("stop", home, SERVER_PORT, lib=JARS, timeout=90)
        for pid in launcher_pids(home):  # only if something above went wrong
            os.kill(pid, signal.SIGKILL)


def test_two_concurrent_starts_launch_one_server(server: dict) -> None:
    (rc1, err1), (rc2, err2) = server["starts"]
    assert (rc1, rc2) == (0, 0), err1 + err2
    said = sorted(["ready" if "ready on" in e else "reused" if "already running" in e else e
                   for e in (err1, err2)])
    assert said == ["ready", "reused"]
    pidfile = server["home"] / f"server-{SERVER_PORT}" / "neo4j.pid"
    assert server["pids"] == [int(pidfile.read_text())]
    status = neo4j_local("status", server["home"], SERVER_PORT, lib=JARS)
    assert status.returncode == 0 and f"bolt://127.0.0.1:{SERVER_PORT}" in status.stdout
    assert can_log_in(SERVER_PORT, PASSWORD)


def test_start_again_with_the_same_password_reuses_the_server(server: dict) -> None:
    start = neo4j_local("start", server["home"], SERVER_PORT, lib=JARS)
    assert start.returncode == 0 and "already running" in start.stderr
    assert launcher_pids(server["home"]) == server["pids"]


def test_start_with_another_password_than_the_running_server_is_an_error(server: dict) -> None:
    start = neo4j_local("start", server["home"], SERVER_PORT, "another-password", lib=JARS)
    assert start.returncode == 1
    assert "different password; stop it first" in start.stderr
    assert launcher_pids(server["home"]) == server["pids"]
    assert can_log_in(SERVER_PORT, PASSWORD)


def test_a_fresh_start_sets_the_requested_password_on_an_existing_database(server: dict) -> None:
    """Last, as it restarts the shared server with another password."""
    home = server["home"]
    assert neo4j_local("stop", home, SERVER_PORT, lib=JARS).returncode == 0
    assert launcher_pids(home) == []
    start = neo4j_local("start", home, SERVER_PORT, "another-password", lib=JARS)
    assert start.returncode == 0, start.stderr
    assert can_log_in(SERVER_PORT, "another-password")
    assert not can_log_in(SERVER_PORT, PASSWORD)
    again = neo4j_local("start", home, SERVER_PORT, "another-password", lib=JARS)
    assert again.returncode == 0 and "already running" in again.stderr
