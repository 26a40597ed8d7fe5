"""
Plays the example workflow of the provider's older walkthrough (seed 002) against em-sim with the
client in that walkthrough's form (em_api_interface_2023.py): no pod_name, form data, base64
downlinks (the simulator runs with compat.downlink_base64: true). Checks what each step returns,
downlinked bytes included.

    EM_SIM_URL=... EM_SIM_USER=... EM_SIM_PASSWORD=... /usr/bin/python3 test/python/run_suite.py test_workflow_2023

test/python/python.test.ts starts the simulator and runs this file through run_suite.py (npm test).
"""

import base64
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import em_api_interface_2023 as em  # noqa: E402

USER = em.username

DOCKERFILE = b"""FROM fpga.dphi.space:5000/alpine
COPY echo-test.sh /echo-test.sh
CMD ["sh", "/echo-test.sh"]
"""
ECHO_TEST_SH = b"""#!/bin/sh
echo "Is this the final frontier?" > /data/downlink.txt
"""


class OlderWalkthrough(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="em-sim-python-2023-")
        os.chdir(cls.workdir)
        for name, content in (("Dockerfile", DOCKERFILE), ("echo-test.sh", ECHO_TEST_SH)):
            with open(name, "wb") as f:
                f.write(content)

    @classmethod
    def tearDownClass(cls):
        os.chdir("/")
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def assertStatus(self, code, body=None):
        self.assertEqual(em.last_response.status_code, code, f"body: {body if body is not None else em.last_response.text}")

    def assertBase64Downlink(self, filepath, expected):
        data = em.downlink(filepath)
        self.assertStatus(200, data)
        name = os.path.basename(filepath)
        self.assertEqual(data, {"filename": name, "content": base64.b64encode(expected).decode()})
        with open(os.path.join("downlink", name), "rb") as f:
            self.assertEqual(f.read(), expected)

    def test_example_workflow(self):
        # Authenticate
        self.assertTrue(em.get_token())

        # List current files: a new user's volume is empty.
        body = em.files_list()
        self.assertStatus(200, body)
        self.assertEqual(body, {"message": "Successfully listed files", "data": []})

        # Upload files
        body = em.uplink(["Dockerfile", "echo-test.sh"], dest_path="echo-test")
        self.assertStatus(200, body)
        total = len(DOCKERFILE) + len(ECHO_TEST_SH)
        self.assertEqual(body, {"message": "Successfully uplinked files", "data": {"file_count": 2, "total_size_kb": round(total / 1024, 2)}})

        # Build Docker image
        body = em.image_build("./echo-test/Dockerfile", "echo-test", "./echo-test")
        self.assertStatus(200, body)
        self.assertEqual(body, {"message": "Docker Image built successfully"})
        self.assertEqual([(i["name"], i["tag"]) for i in em.image_list()["data"]], [(f"{USER}-echo-test", "latest")])

        # Downlink a file: base64 in JSON, decoded to the same bytes.
        self.assertBase64Downlink("/echo-test/Dockerfile", DOCKERFILE)

        # Run Docker container, then wait until it is done.
        body = em.run("echo-test")
        self.assertStatus(200, body)
        self.assertEqual(body, {"message": "Docker run scheduled successfully"})
        state = None
        for _ in range(240):
            status = em.pod_status()
            self.assertStatus(200, status)
            state = status["data"]["state"]
            if "terminated" in state:
                break
            time.sleep(0.5)
        self.assertIn("terminated", state, state)
        self.assertEqual((state["terminated"]["exitCode"], state["terminated"]["reason"]), (0, "Completed"), state)
        self.assertBase64Downlink("downlink.txt", b"Is this the final frontier?\n")

        # An error keeps its JSON body under the base64 switch.
        body = em.downlink("inexistant-file.txt")
        self.assertStatus(404, body)
        self.assertEqual(body["error"], "FILE_NOT_FOUND")

        # Cleanup files
        self.assertEqual(em.delete("/echo-test/Dockerfile"), {"message": "File deleted successfully"})
        self.assertEqual(em.delete("downlink.txt"), {"message": "File deleted successfully"})
        listed = em.files_list()["data"]
        self.assertEqual([(e["name"], e["type"]) for e in listed], [("echo-test", "directory")])
        self.assertEqual([e["name"] for e in listed[0]["contents"]], ["echo-test.sh"])


if __name__ == "__main__":
    if not os.environ.get("EM_SIM_URL"):
        sys.exit("set EM_SIM_URL, EM_SIM_USER and EM_SIM_PASSWORD")
    unittest.main(verbosity=2)
