"""
Plays every example of the provider's client guide (seed 001) against em-sim with the guide-style
client in em_api_interface.py, and checks what each step returns, downlinked bytes included.

Plain unittest (PyPI is unreachable here; Debian's python3-requests is the only dependency):

    EM_SIM_URL=http://127.0.0.1:8000 EM_SIM_USER=client1 EM_SIM_PASSWORD=... \\
        /usr/bin/python3 test/python/run_suite.py test_examples

EM_SIM_TOKEN_LIFETIME (seconds, default 2) must match the simulator's auth.access_token_lifetime:
the last test waits that long to prove that an expired token is refreshed and the call retried.
test/python/python.test.ts starts the simulator and runs this file through run_suite.py (npm test).

The tests run in the order of their names and share one user, as the guide's examples do: the
image that "simple operations" builds is the one the error and env examples run.
"""

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import em_api_interface as em  # noqa: E402

USER = em.username
TOKEN_LIFETIME = float(os.environ.get("EM_SIM_TOKEN_LIFETIME", "2"))

# The guide's simple-echo example (fixtures/echo-test): an image whose ENTRYPOINT is a script that
# writes into /data.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "echo-test")
with open(os.path.join(FIXTURES, "Dockerfile"), "rb") as f:
    DOCKERFILE = f.read()
with open(os.path.join(FIXTURES, "echo-test.sh"), "rb") as f:
    ECHO_TEST_SH = f.read()
HELLO_WORLD = b"Hello world, from the ground station!\n"

OK_LIST = "Successfully listed files"
OK_RUN = {"message": "Docker run scheduled successfully"}
OK_DELETE = {"message": "File deleted successfully"}
OK_STATUS = "Successfully fetched DPhi Pod status"

# Bounded polling: at most POLL_ATTEMPTS status calls, POLL_INTERVAL seconds apart.
POLL_INTERVAL = 0.5
POLL_ATTEMPTS = 240


def file_hash(data):
    """The list's hash: first 8 bytes of the SHA-256, big-endian, signed (README, api-decisions)."""
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big", signed=True)


def wait_for(pod_name, accept, what):
    """Polls pod_status(pod_name) until accept(state) holds; returns the state."""
    last = None
    for _ in range(POLL_ATTEMPTS):
        last = em.pod_status(pod_name=pod_name)
        if em.last_response.status_code == 200 and accept(last["data"]["state"]):
            return last["data"]["state"]
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"pod {pod_name or '(default)'} never became {what}; last status: {last}")


def wait_terminated(pod_name=""):
    return wait_for(pod_name, lambda s: "terminated" in s, "terminated")["terminated"]


def wait_running(pod_name=""):
    return wait_for(pod_name, lambda s: "running" in s or "terminated" in s, "running")


def parse_utc(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class GuideExamples(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="em-sim-python-")
        cls.src = os.path.join(cls.workdir, "simple-echo")
        os.makedirs(cls.src)
        for name, content in (("Dockerfile", DOCKERFILE), ("echo-test.sh", ECHO_TEST_SH), ("hello-world.txt", HELLO_WORLD)):
            with open(os.path.join(cls.src, name), "wb") as f:
                f.write(content)
        cls.downlinks = os.path.join(cls.workdir, "downlink")
        # The guide's downlink() writes into "downlink/" relative to the working directory.
        os.chdir(cls.workdir)

    @classmethod
    def tearDownClass(cls):
        os.chdir("/")
        shutil.rmtree(cls.workdir, ignore_errors=True)

    # ---- helpers -------------------------------------------------------------------------------

    def local(self, name):
        return os.path.join(self.src, name)

    def assertStatus(self, code, body=None):
        self.assertEqual(em.last_response.status_code, code, f"body: {body if body is not None else em.last_response.text}")

    def assertDownlinked(self, filepath, expected, pod_name=""):
        """downlink() saves the file; its bytes must be exactly `expected`."""
        name = os.path.basename(filepath)
        target = os.path.join(self.downlinks, name)
        if os.path.exists(target):
            os.remove(target)
        result = em.downlink(filepath, pod_name=pod_name)
        self.assertStatus(200, result)
        self.assertEqual(result, {"filename": name, "local_path": os.path.join("downlink/", name), "size_bytes": len(expected)})
        with open(target, "rb") as f:
            self.assertEqual(f.read(), expected)
        return result

    def assertError(self, body, status, code):
        self.assertStatus(status, body)
        self.assertEqual(body["error"], code, body)
        self.assertIsInstance(body["message"], str)
        self.assertTrue(body["message"])

    def assertCompletes(self, pod_name=""):
        """Waits until the pod has terminated and checks it exited 0, as Completed."""
        done = wait_terminated(pod_name)
        self.assertEqual((done["exitCode"], done["reason"]), (0, "Completed"), done)
        return done

    def assertRunAccepted(self, body):
        self.assertStatus(200, body)
        self.assertEqual(body, OK_RUN)

    def listed(self, pod_name=""):
        body = em.files_list(pod_name=pod_name)
        self.assertStatus(200, body)
        self.assertEqual(body["message"], OK_LIST)
        return body["data"]

    def assertFileEntry(self, entry, name, content):
        self.assertEqual(entry["type"], "file")
        self.assertEqual(entry["name"], name)
        self.assertEqual(entry["size"], str(len(content)))
        self.assertRegex(entry["time"], r"^\d{4}-\d\d-\d\d-\d\d-\d\d$")
        self.assertEqual(entry["hash"], file_hash(content))

    # ---- 1. simple operations ------------------------------------------------------------------

    def test_1_simple_operations(self):
        # A new user's default volume is empty; the URL is BASE_URL + "/em/files/list".
        self.assertEqual(self.listed(), [])

        body = em.uplink([self.local("Dockerfile"), self.local("echo-test.sh")], dest_path="echo-test")
        self.assertStatus(200, body)
        total = len(DOCKERFILE) + len(ECHO_TEST_SH)
        self.assertEqual(body, {"message": "Successfully uplinked files", "data": {"file_count": 2, "total_size_kb": round(total / 1024, 2)}})

        tree = self.listed()
        self.assertEqual(len(tree), 1, tree)
        folder = tree[0]
        self.assertEqual((folder["type"], folder["name"], folder["size"]), ("directory", "echo-test", str(total)))
        contents = sorted(folder["contents"], key=lambda e: e["name"])
        self.assertEqual([e["name"] for e in contents], ["Dockerfile", "echo-test.sh"])
        self.assertFileEntry(contents[0], "Dockerfile", DOCKERFILE)
        self.assertFileEntry(contents[1], "echo-test.sh", ECHO_TEST_SH)

        body = em.image_build("./echo-test/Dockerfile", "echo-test", "./echo-test")
        self.assertStatus(200, body)
        self.assertEqual(body, {"message": "Docker Image built successfully"})

        body = em.image_list()
        self.assertStatus(200, body)
        self.assertEqual(body["message"], "Successfully loaded list of docker images")
        self.assertEqual([(i["name"], i["tag"]) for i in body["data"]], [(f"{USER}-echo-test", "latest")])

        # Run on the default FPGA node: the image's ENTRYPOINT writes downlink.txt.
        self.assertRunAccepted(em.run("echo-test", max_duration=1))
        self.assertCompletes()
        self.assertDownlinked("downlink.txt", b"Is this the final frontier?\narguments: 0\n")

        # Run on GPU with a command: it replaces the ENTRYPOINT (the script does not run again,
        # so the deleted downlink.txt stays deleted) and runs through a shell (the redirection).
        self.assertEqual(em.delete("downlink.txt"), OK_DELETE)
        self.assertRunAccepted(em.run("echo-test", node="GPU", max_duration=1, command="echo 123 > /data/gpu-downlink.txt"))
        self.assertCompletes()
        self.assertDownlinked("gpu-downlink.txt", b"123\n")
        self.assertEqual(em.downlink("downlink.txt")["error"], "FILE_NOT_FOUND")

        # Scheduled run, as the guide writes it (a timezone-aware isoformat), a few seconds ahead.
        tz = timezone(timedelta(hours=2))
        scheduled = datetime.now(tz) + timedelta(seconds=5)
        scheduled_time = scheduled.isoformat()
        self.assertRegex(scheduled_time, r"\+02:00$")
        self.assertRunAccepted(em.run("echo-test", max_duration=1, scheduled_time=scheduled_time, command='sh -c "date > /data/time.txt"'))
        asked = datetime.now(tz)
        state = em.pod_status()
        self.assertStatus(200, state)
        if asked < scheduled - timedelta(seconds=1):
            # Not due yet: waiting, with a message saying when.
            self.assertIn("waiting", state["data"]["state"], state)
            self.assertTrue(state["data"]["state"]["waiting"]["message"], state)
        done = self.assertCompletes()
        # It did not start before its time (the status has whole seconds).
        self.assertGreaterEqual(parse_utc(done["startedAt"]), scheduled.replace(microsecond=0))
        result = em.downlink("time.txt")
        self.assertStatus(200, result)
        with open(os.path.join(self.downlinks, "time.txt"), "rb") as f:
            stamp = f.read().decode()
        self.assertRegex(stamp, r"^\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d \w+ \d{4}\n$")

        # The guide's clean-up, leading slashes included.
        for filepath in ["/echo-test/Dockerfile", "time.txt", "gpu-downlink.txt", "/echo-test"]:
            self.assertEqual(em.delete(filepath), OK_DELETE, filepath)
            self.assertStatus(200)
        self.assertEqual(self.listed(), [])

    # ---- 2. pod volumes ------------------------------------------------------------------------

    def test_2_pod_volumes(self):
        self.assertRunAccepted(
            em.run("python:3.11-alpine", pod_name="pod-a", max_duration=30, command="echo 'Is this the final frontier?' > /data/hello-space.txt")
        )
        self.assertCompletes("pod-a")

        space = b"Is this the final frontier?\n"
        files = self.listed(pod_name="pod-a")
        self.assertEqual(len(files), 1, files)
        self.assertFileEntry(files[0], "hello-space.txt", space)

        body = em.uplink([self.local("hello-world.txt")], pod_name="pod-a")
        self.assertStatus(200, body)
        self.assertEqual(body["data"]["file_count"], 1)
        self.assertEqual(sorted(e["name"] for e in self.listed(pod_name="pod-a")), ["hello-space.txt", "hello-world.txt"])

        # The default volume does not see pod-a's files.
        default_names = [e["name"] for e in self.listed()]
        self.assertNotIn("hello-world.txt", default_names)
        self.assertNotIn("hello-space.txt", default_names)

        # Without pod_name the delete looks in the default volume and fails; with it, it works.
        self.assertError(em.delete("hello-world.txt"), 400, "DELETE_FAILED")
        self.assertEqual(em.delete("hello-world.txt", pod_name="pod-a"), OK_DELETE)

        self.assertDownlinked("hello-space.txt", space, pod_name="pod-a")
        self.assertError(em.downlink("hello-space.txt"), 404, "FILE_NOT_FOUND")
        self.assertEqual([e["name"] for e in self.listed(pod_name="pod-a")], ["hello-space.txt"])

    # ---- 3. inter-pod communication ------------------------------------------------------------

    def test_3_pod_intercommunication(self):
        self.assertEqual(em.namespace_create(), {"message": "Namespace created successfully"})
        self.assertStatus(200)

        self.assertRunAccepted(
            em.run("python:3.11-alpine", pod_name="server", max_duration=2, namespace=True, ports=[80], command="python -m http.server 80")
        )
        state = wait_running("server")
        self.assertIn("running", state, f"the server pod stopped: {state}")

        # The server listens a moment after its container starts: run the client again until
        # its wget succeeds (each try is a whole pod run, as a user would do it).
        for _ in range(30):
            self.assertRunAccepted(
                em.run("python:3.11-alpine", pod_name="client", max_duration=1, namespace=True, command=f"wget {USER}-server:80/ -O /data/server-data.txt")
            )
            done = wait_terminated("client")
            if done["exitCode"] == 0:
                break
            time.sleep(1)
        self.assertEqual((done["exitCode"], done["reason"]), (0, "Completed"), done)

        files = self.listed(pod_name="client")
        self.assertEqual([e["name"] for e in files], ["server-data.txt"])
        result = self.assertDownloadedListing("server-data.txt", "client")
        self.assertEqual(files[0]["size"], str(result["size_bytes"]))
        with open(os.path.join(self.downlinks, "server-data.txt"), "rb") as f:
            self.assertEqual(files[0]["hash"], file_hash(f.read()))

        # A later version of the guide reaches the server by its pod name alone, with the
        # command and its arguments apart and no namespace flag.
        self.assertRunAccepted(
            em.run("python:3.11-alpine", pod_name="client2", max_duration=1, command="/usr/bin/wget", args=["server:80/", "-O", "/data/server-data.txt"])
        )
        self.assertCompletes("client2")
        self.assertDownloadedListing("server-data.txt", "client2")

        self.assertEqual(em.delete("server-data.txt", pod_name="client"), OK_DELETE)
        self.assertEqual(self.listed(pod_name="client"), [])

    def assertDownloadedListing(self, filepath, pod_name):
        """The server runs `python -m http.server 80`: what the client fetched is its listing of /."""
        target = os.path.join(self.downlinks, os.path.basename(filepath))
        if os.path.exists(target):
            os.remove(target)
        result = em.downlink(filepath, pod_name=pod_name)
        self.assertStatus(200, result)
        with open(target, "rb") as f:
            page = f.read().decode()
        self.assertEqual(result["size_bytes"], len(page.encode()))
        self.assertIn("<title>Directory listing for /</title>", page)
        self.assertIn('<a href="data/">data/</a>', page)
        return result

    # ---- 4. env and args -----------------------------------------------------------------------

    def test_4_env_and_args(self):
        # The guide's literal example. With Kubernetes semantics the command is ["/bin/sh", "-c"]
        # and the args follow, so the first arg is the script and the second becomes $0: the echo
        # goes to the pod's stdout and no file is written.
        self.assertRunAccepted(
            em.run(
                "echo-test",
                max_duration=1,
                command="/bin/sh -c",
                args=["echo testing args $DURATION $SIZE", " > /data/test.txt"],
                envs={"DURATION": 60, "SIZE": 1024},
            )
        )
        self.assertCompletes()
        self.assertError(em.downlink("test.txt"), 404, "FILE_NOT_FOUND")

        # The later guide's form, which writes the file: the environment reaches the shell.
        self.assertRunAccepted(
            em.run(
                "echo-test",
                max_duration=1,
                command="/bin/sh",
                args=["-c", "echo testing args $DURATION $SIZE > /data/argument-test.txt"],
                envs={"DURATION": 60, "SIZE": 1024},
            )
        )
        self.assertCompletes()
        self.assertDownlinked("argument-test.txt", b"testing args 60 1024\n")
        self.assertEqual(em.delete("argument-test.txt"), OK_DELETE)

        # args without a command go to the image's ENTRYPOINT, as on Kubernetes.
        self.assertRunAccepted(em.run("echo-test", max_duration=1, args=["one", "two"]))
        self.assertCompletes()
        self.assertDownlinked("downlink.txt", b"Is this the final frontier?\narguments: 2\n")
        self.assertEqual(em.delete("downlink.txt"), OK_DELETE)

    # ---- 5. errors -----------------------------------------------------------------------------

    def test_5_errors(self):
        # Downlink of a file that does not exist.
        self.assertError(em.downlink("inexistant-file.txt"), 404, "FILE_NOT_FOUND")

        # Build with a context folder that does not exist (the Dockerfile does).
        body = em.uplink([self.local("Dockerfile"), self.local("echo-test.sh")], dest_path="echo-test")
        self.assertStatus(200, body)
        body = em.image_build("./echo-test/Dockerfile", "echo-test", "./echo2-test")
        self.assertError(body, 400, "BUILD_FAILED")
        self.assertEqual(body["message"], "Docker build failed")
        self.assertIsInstance(body["log_tail"], list)
        self.assertTrue(any("echo2-test" in line and "not found" in line for line in body["log_tail"]), body["log_tail"])
        self.assertEqual(em.delete("echo-test"), OK_DELETE)

        # Run of an image that does not exist: accepted, and the status tells what went wrong,
        # ErrImagePull first, then ImagePullBackOff, naming the reference that was tried.
        self.assertRunAccepted(em.run("echo12-test", node="GPU", max_duration=1))
        first = wait_for("", lambda s: "waiting" in s and s["waiting"]["reason"] != "ContainerCreating", "failed")["waiting"]
        self.assertIn(first["reason"], ("ErrImagePull", "ImagePullBackOff"), first)
        self.assertIn(f"{USER}-echo12-test", first["message"])
        backoff = wait_for("", lambda s: s.get("waiting", {}).get("reason") == "ImagePullBackOff", "ImagePullBackOff")["waiting"]
        self.assertTrue(backoff["message"].startswith(f'Back-off pulling image "{USER}-echo12-test"'), backoff)
        self.assertIn("ErrImagePull", backoff["message"])
        body = em.pod_status()
        self.assertEqual(body["message"], OK_STATUS)

        # Pod names are DNS labels: uppercase letters and whitespace are refused with a reason.
        body = em.run("echo-test", node="GPU", max_duration=1, pod_name="Hey-there")
        self.assertError(body, 400, "INVALID_POD_NAME")
        self.assertIn("uppercase", body["message"])
        body = em.pod_status(pod_name="Hey no whitespaces")
        self.assertError(body, 400, "INVALID_POD_NAME")
        self.assertIn("whitespace", body["message"])

    # ---- 6. load an image from a tar -----------------------------------------------------------

    def test_6_image_load(self):
        # A tar made with `docker save` of an image tagged with the user's prefix, as the guide's
        # notes ask (test/python/python.test.ts makes it from the busybox catalog image).
        tar_path = os.environ.get("EM_SIM_LOAD_TAR")
        self.assertTrue(tar_path, "EM_SIM_LOAD_TAR must name a tar of an image tagged USER-loaded")
        body = em.uplink([tar_path], dest_path="images")
        self.assertStatus(200, body)
        tar_name = os.path.basename(tar_path)

        # A name that is not the one in the tar is refused, with the log of what was found.
        body = em.image_load(f"images/{tar_name}", "something-else")
        self.assertError(body, 400, "IMAGE_LOAD_FAILED")
        self.assertEqual(body["message"], "Docker Image tarfile failed to load")
        self.assertTrue(any(f"{USER}-loaded" in line for line in body["log_tail"]), body["log_tail"])

        # A tar that is not there: the same error, naming the path.
        body = em.image_load("images/missing.tar", "loaded")
        self.assertError(body, 400, "IMAGE_LOAD_FAILED")
        self.assertTrue(any("missing.tar" in line for line in body["log_tail"]), body["log_tail"])

        self.assertEqual(em.image_load(f"images/{tar_name}", "loaded"), {"message": "Tar file loaded successfully"})
        self.assertStatus(200)
        names = [(i["name"], i["tag"]) for i in em.image_list()["data"]]
        self.assertIn((f"{USER}-loaded", "latest"), names)

        # The loaded image runs under its short name.
        self.assertRunAccepted(em.run("loaded", pod_name="loaded", max_duration=1, command="echo loaded and running > /data/loaded.txt"))
        self.assertCompletes("loaded")
        self.assertDownlinked("loaded.txt", b"loaded and running\n", pod_name="loaded")
        self.assertEqual(em.delete("images"), OK_DELETE)

    # ---- 7. token refresh ----------------------------------------------------------------------

    def test_7_expired_token_is_refreshed(self):
        # The simulator runs with a short access-token lifetime. Let the current token expire:
        # the next call gets a 401, fetches a fresh token and succeeds on its retry.
        em.ensure_token()
        before = em.RETRIES
        time.sleep(TOKEN_LIFETIME + 1.5)
        self.assertIsInstance(self.listed(), list)
        self.assertEqual(em.RETRIES, before + 1)
        # And over the whole suite, the refresh path ran (the pod polls outlast the token too).
        print(f"401 answers retried with a fresh token: {em.RETRIES}", file=sys.stderr)
        self.assertGreater(em.RETRIES, 0)


if __name__ == "__main__":
    if not em.username or not os.environ.get("EM_SIM_URL"):
        sys.exit("set EM_SIM_URL, EM_SIM_USER and EM_SIM_PASSWORD")
    unittest.main(verbosity=2)
