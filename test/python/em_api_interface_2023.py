"""
EM API client in the form of the provider's older walkthrough (seed 002), kept as that guide
writes it, so that em-sim is held to it:

- no pod_name anywhere: every call uses the default volume and the default pod;
- form data (requests' data=) for every POST, query parameters for every GET;
- downlink answers JSON {"filename", "content": base64}, which em-sim sends when the
  configuration has compat.downlink_base64: true;
- uplink sends its own request without the 401 retry, as the guide's does.

last_response is the only addition: the suite reads status codes from it.
Configuration comes from EM_SIM_URL, EM_SIM_USER and EM_SIM_PASSWORD.
"""

import base64
import os

import requests

BASE_URL = os.environ.get("EM_SIM_URL", "http://localhost:8000").rstrip("/") + "/"
TOKEN = None

username = os.environ.get("EM_SIM_USER", "client1")
password = os.environ.get("EM_SIM_PASSWORD", "")

last_response = None


def _keep(response):
    global last_response
    last_response = response
    return response


def get_token():
    global TOKEN
    response = requests.post(
        BASE_URL + "auth/",
        data={"username": username, "password": password},
    )
    content = response.json()
    if response.status_code != 200:
        return False
    TOKEN = content["access"]
    return True


def ensure_token():
    """
    Ensures TOKEN exists. If not, fetch a new one.
    """
    if TOKEN is None:
        print("No token found. Fetching new token...")
        if not get_token():
            raise Exception("Authentication failed.")


def authorized_get(url, **kwargs):
    ensure_token()
    headers = kwargs.pop("headers", {})
    headers["Authorization"] = f"Bearer {TOKEN}"

    response = requests.get(url, headers=headers, **kwargs)

    # Retry if token expired
    if response.status_code == 401:
        print("Token expired. Refreshing...")
        if get_token():
            headers["Authorization"] = f"Bearer {TOKEN}"
            response = requests.get(url, headers=headers, **kwargs)

    return _keep(response)


def authorized_post(url, **kwargs):
    ensure_token()
    headers = kwargs.pop("headers", {})
    headers["Authorization"] = f"Bearer {TOKEN}"

    response = requests.post(url, headers=headers, **kwargs)

    # Retry if token expired
    if response.status_code == 401:
        print("Token expired. Refreshing...")
        if get_token():
            headers["Authorization"] = f"Bearer {TOKEN}"
            response = requests.post(url, headers=headers, **kwargs)

    return _keep(response)


def uplink(filepaths, dest_path=""):
    """
    Upload multiple files to the users dedicated volume on CG2.
    """
    ensure_token()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    # Prepare files for multipart upload
    files_to_upload = []
    for filepath in filepaths:
        filename = os.path.basename(filepath)
        files_to_upload.append(("files", (filename, open(filepath, "rb"))))

    response = requests.post(
        BASE_URL + "em/files/uplink",
        headers=headers,
        files=files_to_upload,
        data={"dest_path": dest_path},
    )

    # Clean up file handles
    for _, (_, file_obj) in files_to_upload:
        file_obj.close()

    return _keep(response).json()


def files_list():
    """
    Retrieve a list of files on the users dedicated volume on CG2.
    """
    response = authorized_get(BASE_URL + "/em/files/list")
    return response.json()


def downlink(filepath, downlink_folder="downlink/"):
    """
    Downlink a file from the users dedicated volume and save it locally.

    Backend returns base64 content + metadata.
    """
    response = authorized_get(
        BASE_URL + "/em/files/downlink",
        params={"filepath": filepath},
    )

    if response.status_code != 200:
        return response.json()

    data = response.json()

    # Decode BASE64 content
    filename = data["filename"]
    file_bytes = base64.b64decode(data["content"])

    # Prepare local folder
    os.makedirs(downlink_folder, exist_ok=True)
    local_path = os.path.join(downlink_folder, filename)

    # Write file
    with open(local_path, "wb") as f:
        f.write(file_bytes)

    print(f"File '{filename}' saved to {local_path}")
    return data


def delete(filepath):
    """
    Delete a file on the users dedicated folder on CG2.
    """
    response = authorized_post(
        BASE_URL + "em/files/delete",
        data={"filepath": filepath},
    )
    return response.json()


def image_build(dockerfile, image, context="."):
    """
    Build a Docker image on CG2. The image is built on an air-gapped environment.
    """
    response = authorized_post(
        BASE_URL + "em/pod/image/build",
        data={"dockerfile": dockerfile, "image": image, "context": context},
    )
    return response.json()


def image_load(tarfile, image):
    """
    Load a Docker image tarball on CG2.
    """
    response = authorized_post(
        BASE_URL + "em/pod/image/load",
        data={"tarfile": tarfile, "image": image},
    )
    return response.json()


def image_list():
    """
    List available Docker images on the EM for the user.
    """
    response = authorized_get(BASE_URL + "em/pod/image/list")
    return response.json()


def run(image, node="FPGA", max_duration=1, command="", scheduled_time=None):
    """
    Run a DPhi Pod on the EM with maximum execution time in minutes.
    """
    response = authorized_post(
        BASE_URL + "em/pod/run",
        data={
            "image": image,
            "node": node,
            "max_duration": max_duration,
            "command": command,
            "scheduled_time": scheduled_time,
        },
    )
    return response.json()


def pod_status():
    """
    Get current DPhi Pod execution status.
    """
    response = authorized_get(BASE_URL + "em/pod/status")
    return response.json()
