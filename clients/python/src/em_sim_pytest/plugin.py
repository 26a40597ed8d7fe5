"""pytest plugin: an em-sim simulator for the tests of a ClusterGate-2 (EM API) client.

The session fixture ``em_sim`` starts em-sim's container image (``docker run`` with the host's
Docker socket, so pods, builds and files work; ephemeral, so stopping it leaves nothing on the
engine) and yields an :class:`EmSim`: its URL, its users and a way to get tokens. When
``EM_SIM_URL`` (or ``--em-sim-url``) names a simulator that already runs (a CI service
container, ``npx em-sim start``), that one is used and nothing is started or stopped.

Tests marked ``@pytest.mark.em_sim_pods`` need pods: they fail at once, saying what to do, when
the simulator has no Docker engine (it answers 503 to image and pod requests then).

Needs only ``requests`` and the ``docker`` command. Settings (option, else environment variable):

- ``--em-sim-image`` / ``EM_SIM_IMAGE``: the image (default ``em-sim:latest``; build it with
  ``bash scripts/build-image.sh`` in em-sim's repository);
- ``--em-sim-url`` / ``EM_SIM_URL``: use a running simulator instead;
- ``EM_SIM_USERS``: ``user:password,user2:password2`` (default ``client1:client1-password``);
- ``--em-sim-socket`` / ``EM_SIM_DOCKER_SOCKET``: the engine's socket (default /var/run/docker.sock).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional

import pytest
import requests

DEFAULT_IMAGE = "em-sim:latest"
DEFAULT_USERS = "client1:client1-password"
START_TIMEOUT_SECONDS = 120


class EmSimError(RuntimeError):
    """em-sim could not be started or reached; the message says what to do."""


@dataclass
class EmSim:
    """A running simulator: ``url`` (no trailing slash), ``users`` (name to password)."""

    url: str
    users: Dict[str, str]
    container: Optional[str] = None
    _tokens: Dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def default_user(self) -> str:
        return next(iter(self.users))

    def token(self, username: Optional[str] = None) -> str:
        """A fresh access token for one of the users (POST /auth/); default the first user."""
        name = username or self.default_user
        if name not in self.users:
            raise EmSimError(f"no user {name!r} in em-sim (users: {', '.join(self.users)}); set EM_SIM_USERS")
        res = requests.post(f"{self.url}/auth/", data={"username": name, "password": self.users[name]}, timeout=30)
        if res.status_code != 200:
            raise EmSimError(f"em-sim refused the login of {name}: {res.status_code} {res.text}")
        return res.json()["access"]

    def session(self, username: Optional[str] = None) -> requests.Session:
        """A requests session that sends a user's access token (valid 300 s by default)."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token(username)}"
        return s


def parse_users(text: str) -> Dict[str, str]:
    users: Dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        name, sep, password = pair.partition(":")
        if not sep or not name or not password:
            raise EmSimError(f"EM_SIM_USERS={text!r}: expected user:password pairs separated by commas")
        users[name] = password
    if not users:
        raise EmSimError("EM_SIM_USERS names no user")
    return users


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("em-sim", "em-sim, the ClusterGate-2 EM API simulator")
    group.addoption("--em-sim-image", default=None, help=f"em-sim image to start (default $EM_SIM_IMAGE, else {DEFAULT_IMAGE})")
    group.addoption("--em-sim-url", default=None, help="use the em-sim that runs at this URL (default $EM_SIM_URL) instead of starting one")
    group.addoption("--em-sim-socket", default=None, help="the Docker engine's socket to give em-sim (default $EM_SIM_DOCKER_SOCKET, else /var/run/docker.sock)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "em_sim_pods: the test runs pods or builds images; it fails at once when em-sim has no Docker engine")


def _docker(*args: str, timeout: float = 60) -> str:
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise EmSimError("the docker command is missing: install the Docker CLI (Debian: apt-get install docker.io), or set EM_SIM_URL to a running em-sim") from None
    except subprocess.TimeoutExpired:
        raise EmSimError(f"docker {' '.join(args[:2])} did not finish within {timeout:.0f} s: is the engine overloaded?") from None
    if done.returncode != 0:
        raise EmSimError(f"docker {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _wait_healthy(url: str, container: Optional[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = ""
    while time.monotonic() < deadline:
        try:
            res = requests.get(f"{url}/sim/health", timeout=2)
            if res.status_code == 200:
                return
            last = f"{res.status_code} {res.text}"
        except requests.RequestException as err:
            last = str(err)
        if container and _docker("inspect", "-f", "{{.State.Running}}", container) != "true":
            logs = subprocess.run(["docker", "logs", "--tail", "20", container], capture_output=True, text=True).stderr
            raise EmSimError(f"the em-sim container stopped before it was healthy; its last lines:\n{logs}")
        time.sleep(0.2)
    raise EmSimError(f"em-sim at {url} was not healthy within {START_TIMEOUT_SECONDS} s (last answer: {last})")


def _start_container(image: str, users: Dict[str, str], socket: str) -> EmSim:
    try:
        _docker("image", "inspect", image)
    except EmSimError:
        raise EmSimError(f"the em-sim image {image} is not on this engine: build it (bash scripts/build-image.sh in em-sim's repository) or set EM_SIM_IMAGE") from None
    if any("," in p for p in users.values()):
        raise EmSimError("EM_SIM_USERS: a password with a comma cannot be passed to the container; choose another")
    # Named before it exists, so that whatever happens next (a timeout, Ctrl-C) it can be removed.
    container = f"em-sim-pytest-{uuid.uuid4().hex[:12]}"
    host, bind = _published_host()
    try:
        _docker(
            "run", "-d", "--name", container,
            # --mount, not -v: a socket path that does not exist is an error, not a new folder.
            "--mount", f"type=bind,source={socket},target=/var/run/docker.sock",
            "-p", f"{bind}::8000",
            "-e", "EM_SIM_EPHEMERAL=true",
            "-e", "EM_SIM_USERS=" + ",".join(f"{u}:{p}" for u, p in users.items()),
            "--label", "em-sim.pytest=true",
            image,
            timeout=120,
        )
        port = _docker("port", container, "8000/tcp").splitlines()[0].rsplit(":", 1)[1]
        sim = EmSim(url=f"http://{host}:{port}", users=users, container=container)
        _wait_healthy(sim.url, container)
        return sim
    except BaseException:
        _stop_container(container)
        raise


def _published_host() -> "tuple[str, str]":
    """Where the published port is reached, and the address to publish it on: this machine's
    loopback, or a remote engine's host (DOCKER_HOST=tcp://HOST:PORT, as in a CI's dind service)."""
    docker_host = os.environ.get("DOCKER_HOST", "")
    if docker_host.startswith("tcp://"):
        return docker_host[len("tcp://"):].rsplit(":", 1)[0].strip("[]"), "0.0.0.0"
    return "127.0.0.1", "127.0.0.1"


def _stop_container(container: str) -> None:
    # SIGTERM, then up to 30 s for em-sim to remove its pods, networks and images; then the
    # container goes with its data volume.
    subprocess.run(["docker", "stop", "-t", "30", container], capture_output=True, timeout=60)
    subprocess.run(["docker", "rm", "-v", "-f", container], capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def em_sim(request: pytest.FixtureRequest) -> Iterator[EmSim]:
    """The simulator for this test session: started once, stopped and removed at the end."""
    config = request.config
    users = parse_users(os.environ.get("EM_SIM_USERS") or DEFAULT_USERS)
    url = config.getoption("--em-sim-url") or os.environ.get("EM_SIM_URL")
    if url:
        sim = EmSim(url=url.rstrip("/"), users=users)
        _wait_healthy(sim.url, None)
        yield sim
        return
    image = config.getoption("--em-sim-image") or os.environ.get("EM_SIM_IMAGE") or DEFAULT_IMAGE
    socket = config.getoption("--em-sim-socket") or os.environ.get("EM_SIM_DOCKER_SOCKET") or "/var/run/docker.sock"
    sim = _start_container(image, users, socket)
    try:
        yield sim
    finally:
        _stop_container(sim.container or "")


@pytest.fixture(autouse=True)
def _em_sim_pods(request: pytest.FixtureRequest) -> None:
    """Fails an ``em_sim_pods`` test at once when the simulator cannot run pods."""
    if request.node.get_closest_marker("em_sim_pods") is None:
        return
    sim: EmSim = request.getfixturevalue("em_sim")
    res = sim.session().get(f"{sim.url}/em/pod/image/list", timeout=30)
    if res.status_code == 503:
        pytest.fail(f"this test needs pods, but em-sim at {sim.url} has no Docker engine ({res.json().get('message')}): start it with the engine's socket mounted (-v /var/run/docker.sock:/var/run/docker.sock)", pytrace=False)
