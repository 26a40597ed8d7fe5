"""Tests of my_client.EmClient against em-sim: the em_sim fixture comes from the em-sim-pytest
plugin (pip install ./clients/python); run with `pytest examples/`."""

import pytest
import requests

from my_client import EmClient


@pytest.fixture
def client(em_sim):
    user = em_sim.default_user
    return EmClient(em_sim.url, user, em_sim.users[user])


def test_a_wrong_password_is_refused(em_sim):
    with pytest.raises(requests.HTTPError) as err:
        EmClient(em_sim.url, em_sim.default_user, "not-the-password")
    assert err.value.response.status_code == 401


def test_a_missing_file_is_a_404_with_a_message(client, tmp_path):
    with pytest.raises(requests.HTTPError) as err:
        client.download("no-such-file.txt", tmp_path / "x")
    assert err.value.response.status_code == 404
    assert err.value.response.json()["error"]


@pytest.mark.em_sim_pods
def test_upload_build_run_and_download(client, tmp_path):
    dockerfile = b'FROM alpine:latest\nCOPY job.sh /job.sh\nCMD ["sh", "/job.sh"]\n'
    job = b'#!/bin/sh\necho "hello from $(uname -m)" > /data/result.txt\n'
    client.upload({"Dockerfile": dockerfile, "job.sh": job}, dest_path="job")
    assert client.build("job", "job") == {"message": "Docker Image built successfully"}

    assert client.run("job", node="FPGA", max_duration=1) == {"message": "Docker run scheduled successfully"}
    assert client.wait_until_terminated()["reason"] == "Completed"

    result = client.download("result.txt", tmp_path / "result.txt").read_text()
    # CG2's nodes are arm64; em-sim runs pods as arm64 where the machine emulates it.
    assert result.startswith("hello from ")
