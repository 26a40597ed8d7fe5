"""
EM API client, written in the style of the provider's client guide (seed 001, em-api-interface.py)
----------------------------------------------------------------------------------------------------

Helper functions over the CG2 EM API with `requests` only, shaped like the guide's own:

- module globals BASE_URL (ending in "/"), username, password, TOKEN;
- get_token / ensure_token, and authorized_get / authorized_post, which fetch a fresh token and
  retry once when an answer is 401;
- URLs built exactly as the guide builds them, some as BASE_URL + "/em/..." (so the server sees a
  double slash, "//em/files/list") and some as BASE_URL + "em/...";
- the parameters sent exactly as the guide sends them: pod_name "" on every file call, a form for
  /auth/ and the uplink, JSON for delete, build, load and run (with "command": "" and
  "scheduled_time", "pod_name", "ports", "args", "envs" as null when the caller left them out),
  query parameters for list, downlink and status.

Additions for the compatibility suite (test_examples.py), which the guide's script does not have:

- RETRIES counts the 401 answers that were retried with a fresh token, so the suite can prove the
  refresh path ran;
- uplink and downlink, which the guide sends with plain requests calls, retry on 401 like the
  authorized helpers do (with a two-second token lifetime, a token fetched before a pod finished
  has expired by the time of the next uplink); uplink reopens its files for the retry;
- last_response holds the last requests.Response, so a test can check the status code of a call
  whose helper returns only the body.

Configuration comes from EM_SIM_URL, EM_SIM_USER and EM_SIM_PASSWORD when set.
"""

import os

import requests

BASE_URL = os.environ.get("EM_SIM_URL", "http://localhost:8000").rstrip("/") + "/"
TOKEN = None

username = os.environ.get("EM_SIM_USER", "client1")
password = os.environ.get("EM_SIM_PASSWORD", "")

# 401 answers that were retried with a fresh token (see the module docstring).
RETRIES = 0
# The last response received, for tests that check status codes.
last_response = None


# ============================================================
# AUTHENTICATION
# ============================================================


def get_token():
    """
    Authenticate to the backend and store the JWT access token.
    """
    global TOKEN

    response = requests.post(
        BASE_URL + "auth/",
        data={"username": username, "password": password},
    )
    content = response.json()

    if response.status_code == 200:
        TOKEN = content["access"]
        print("Access token acquired")
        return True

    print(f"Failed to get access token: {content.get('detail')}")
    return False


def ensure_token():
    """
    Ensures TOKEN exists. If not, fetch a new one.
    """
    if TOKEN is None:
        print("No token found. Fetching new token...")
        if not get_token():
            raise Exception("Authentication failed.")


def _refresh_after_401():
    """Fetches a fresh token after a 401; True when the request should be sent again."""
    global RETRIES
    print("Token expired. Refreshing...")
    if get_token():
        RETRIES += 1
        return True
    return False


def _keep(response):
    global last_response
    last_response = response
    return response


# ============================================================
# AUTHORIZED REQUEST HELPERS
# ============================================================


def authorized_get(url, **kwargs):
    """
    Wrapper for GET requests with Authorization header and auto-refresh logic.
    """
    ensure_token()
    headers = kwargs.pop("headers", {})
    headers["Authorization"] = f"Bearer {TOKEN}"

    response = requests.get(url, headers=headers, **kwargs)

    # Retry if token expired
    if response.status_code == 401:
        if _refresh_after_401():
            headers["Authorization"] = f"Bearer {TOKEN}"
            response = requests.get(url, headers=headers, **kwargs)

    return _keep(response)


def authorized_post(url, **kwargs):
    """
    Wrapper for POST requests with Authorization header and auto-refresh logic.
    """
    ensure_token()
    headers = kwargs.pop("headers", {})
    headers["Authorization"] = f"Bearer {TOKEN}"

    response = requests.post(url, headers=headers, **kwargs)

    # Retry if token expired
    if response.status_code == 401:
        if _refresh_after_401():
            headers["Authorization"] = f"Bearer {TOKEN}"
            response = requests.post(url, headers=headers, **kwargs)

    return _keep(response)


# ============================================================
# FILE UPLOAD / DOWNLOAD OPERATIONS
# ============================================================


def _post_files(filepaths, dest_path, pod_name):
    headers = {"Authorization": f"Bearer {TOKEN}"}

    # Prepare files for multipart upload
    files_to_upload = []
    for filepath in filepaths:
        filename = os.path.basename(filepath)
        files_to_upload.append(("files", (filename, open(filepath, "rb"))))

    try:
        return requests.post(
            BASE_URL + "em/files/uplink",
            headers=headers,
            files=files_to_upload,
            data={"dest_path": dest_path, "pod_name": pod_name},
        )
    finally:
        # Clean up file handles
        for _, (_, file_obj) in files_to_upload:
            file_obj.close()


def uplink(filepaths, dest_path="", pod_name=""):
    """
    Upload files to the volume associated with `pod_name`.

    filepaths: list of local paths to upload
    dest_path (optional): remote destination folder
    pod_name (optional): selects which persistent volume the files are uploaded to.
    """
    ensure_token()
    response = _post_files(filepaths, dest_path, pod_name)
    if response.status_code == 401 and _refresh_after_401():
        # The files were read by the first attempt: open them again.
        response = _post_files(filepaths, dest_path, pod_name)
    return _keep(response).json()


def files_list(pod_name=""):
    """
    List files stored in the volume associated with `pod_name`.
    """
    response = authorized_get(
        BASE_URL + "/em/files/list",
        params={"pod_name": pod_name} or {},
    )
    return response.json()


def _get_stream(filepath, pod_name):
    return requests.get(
        BASE_URL + "/em/files/downlink",
        headers={"Authorization": f"Bearer {TOKEN}"},
        params={"filepath": filepath, "pod_name": pod_name},
        stream=True,
    )


def downlink(filepath, downlink_folder="downlink/", pod_name=""):
    """
    Downlink a file from the volume associated with `pod_name`, streamed to a local file.

    filepath: filepath on the user's private volume to downlink.
    downlink_folder (optional): local folder where to downlink the files requested.
    pod_name (optional): selects which persistent volume to downlink from.
    """
    ensure_token()
    response = _get_stream(filepath, pod_name)
    if response.status_code == 401:
        response.close()
        if _refresh_after_401():
            response = _get_stream(filepath, pod_name)

    # Streaming GET request
    with _keep(response):
        if response.status_code != 200:
            # Parse JSON error and return it
            try:
                return response.json()
            except Exception:
                return {"error": "UNKNOWN_ERROR", "status": response.status_code}

        # Extract the filename from `Content-Disposition`
        cd = response.headers.get("Content-Disposition", "")
        filename = "downloaded_file"

        if "filename=" in cd:
            filename = cd.split("filename=", 1)[1].split(";", 1)[0].strip('"')

        # Prepare local folder
        os.makedirs(downlink_folder, exist_ok=True)
        local_path = os.path.join(downlink_folder, filename)

        # Write file to disk in chunks
        with open(local_path, "wb") as f:
            for chunk in response.iter_content(chunk_size=1024 * 1024):  # 1 MB chunks
                if chunk:
                    f.write(chunk)

        print(f"File '{filename}' saved to {local_path}")
        return {
            "filename": filename,
            "local_path": local_path,
            "size_bytes": os.path.getsize(local_path),
        }


def delete(filepath, pod_name=""):
    """
    Delete a file or folder from the volume associated with `pod_name`.
    """
    response = authorized_post(
        BASE_URL + "em/files/delete",
        json={"filepath": filepath, "pod_name": pod_name},
    )
    return response.json()


# ============================================================
# DOCKER / POD OPERATIONS
# ============================================================


def image_build(dockerfile, image, context=".", pod_name=""):
    """
    Build a Docker image from files located in the volume associated with `pod_name`.
    """
    response = authorized_post(
        BASE_URL + "em/pod/image/build",
        json={
            "dockerfile": dockerfile,
            "image": image,
            "context": context,
            "pod_name": pod_name,
        },
    )
    return response.json()


def image_load(tarfile, image, pod_name=""):
    """
    Load a Docker image tarball located in the volume associated with `pod_name`.
    """
    response = authorized_post(
        BASE_URL + "em/pod/image/load",
        json={"tarfile": tarfile, "image": image, "pod_name": pod_name},
    )
    return response.json()


def image_list():
    """
    List available Docker images on the EM for the user.
    """
    response = authorized_get(BASE_URL + "em/pod/image/list")
    return response.json()


def run(
    image,
    node="FPGA",
    max_duration=1,
    command="",
    scheduled_time=None,
    pod_name=None,
    ports=None,
    namespace=False,
    args=None,
    envs=None,
):
    """
    Run a DPhi Pod on the EM with maximum execution time in minutes.

    image: Docker image to run
    node: node on which to run the DPhi Pod [FPGA,GPU,MPU]
    max_duration: maximum execution duration in minutes before the system stops it gracefully.
    command (optional): command to run in the DPhi Pod instead of the image's default one.
    scheduled_time (optional): ISO time with timezone, e.g. 2025-05-22T12:10:00+02:00.
    pod_name (optional): names the pod and the volume mounted at /data.
    ports (optional): ports the pod exposes to the user's other pods.
    namespace (optional): run the pod in the user's private namespace.
    args (optional): arguments passed to the command, e.g. ['--debug', '-f', 'output.dat'].
    envs (optional): environment variables, e.g. {"DURATION": 60, "SIZE": 1024}.
    """
    response = authorized_post(
        BASE_URL + "em/pod/run",
        json={
            "image": image,
            "node": node,
            "max_duration": max_duration,
            "command": command,
            "scheduled_time": scheduled_time,
            "pod_name": pod_name,
            "ports": ports,
            "namespace": namespace,
            "args": args,
            "envs": envs,
        },
    )
    return response.json()


def pod_status(pod_name=""):
    """
    Retrieve the status of the DPhi Pod associated with `pod_name`.
    """
    response = authorized_get(
        BASE_URL + "em/pod/status", params={"pod_name": pod_name} or {}
    )
    return response.json()


def namespace_create():
    """
    Create the user's namespace, so that pods run with namespace=True can reach each other.
    """
    response = authorized_post(BASE_URL + "em/pod/namespace/create")
    return response.json()
