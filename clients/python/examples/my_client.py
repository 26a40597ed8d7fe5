"""A team's own client of the EM API, the code these tests are for (written as the provider's
users write theirs: requests, a token, one method per endpoint)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, Optional

import requests


class EmClient:
    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        res = requests.post(f"{self.url}/auth/", data={"username": username, "password": password}, timeout=30)
        res.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {res.json()['access']}"

    def upload(self, files: Dict[str, bytes], dest_path: str = "") -> dict:
        parts = [("files", (name, content)) for name, content in files.items()]
        res = self.session.post(f"{self.url}/em/files/uplink", files=parts, data={"dest_path": dest_path} if dest_path else None, timeout=120)
        res.raise_for_status()
        return res.json()

    def build(self, image: str, context: str) -> dict:
        res = self.session.post(
            f"{self.url}/em/pod/image/build",
            data={"dockerfile": f"./{context}/Dockerfile", "image": image, "context": f"./{context}"},
            timeout=600,
        )
        res.raise_for_status()
        return res.json()

    def run(self, image: str, node: str = "FPGA", max_duration: int = 1, command: Optional[str] = None) -> dict:
        params = {"image": image, "node": node, "max_duration": max_duration}
        if command:
            params["command"] = command
        res = self.session.post(f"{self.url}/em/pod/run", json=params, timeout=60)
        res.raise_for_status()
        return res.json()

    def status(self) -> dict:
        res = self.session.get(f"{self.url}/em/pod/status", timeout=30)
        res.raise_for_status()
        return res.json()["data"]

    def wait_until_terminated(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.status()["state"]
            if "terminated" in state:
                return state["terminated"]
            time.sleep(0.5)
        raise TimeoutError("the pod did not terminate")

    def download(self, filepath: str, to: Path) -> Path:
        res = self.session.get(f"{self.url}/em/files/downlink", params={"filepath": filepath}, timeout=120)
        res.raise_for_status()
        to.write_bytes(res.content)
        return to
