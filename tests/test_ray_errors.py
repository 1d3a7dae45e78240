"""`--executor ray` fails in one line, before any work: Ray not installed, an address nothing listens at, an
address that is not HOST:PORT, and --address without --executor ray."""

from __future__ import annotations

import http.server
import os
import sys
import threading

import pytest

from stitchc.cli import main

DIGITS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs", "digits.stitch")


@pytest.fixture(autouse=True)
def restored_auth_mode(monkeypatch):
    """RAY_AUTH_MODE, which a connection to an address may set, is as it was after each test."""
    monkeypatch.setenv("RAY_AUTH_MODE", "")
    monkeypatch.delenv("RAY_AUTH_MODE")


def _run(capsys, *options: str, out: str) -> tuple[int, str]:
    status = main(["run", DIGITS, "--out", out, *options])
    return status, capsys.readouterr().err


def test_without_ray_installed_the_run_says_how_to_install_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as when it is missing
    status, err = _run(capsys, "--executor", "ray", out=str(tmp_path / "out"))
    assert (status, err) == (
        2,
        'stitchc: error: --executor ray needs Ray, which is not installed: pip install "stitchc[ray]"\n',
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "address, message",
    [
        ("127.0.0.1:1", "cannot reach a Ray cluster at 127.0.0.1:1: Connection refused"),
        ("headnode", "--address headnode: expected HOST:PORT (the address `ray start --head` prints) or auto"),
    ],
)
def test_a_bad_address_is_one_line(capsys, tmp_path, address, message):
    pytest.importorskip("ray")
    status, err = _run(capsys, "--executor", "ray", "--address", address, out=str(tmp_path / "out"))
    assert (status, err) == (2, f"stitchc: error: {message}\n")
    assert not (tmp_path / "out").exists()  # refused before fitting


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        """The server answers without writing to stderr (the test reads the run's stderr)."""


def test_an_address_where_something_else_answers_is_one_line(capsys, tmp_path):
    """An HTTP server is no Ray head: refused at once, not after Ray's minutes of retries."""
    pytest.importorskip("ray")
    server = http.server.HTTPServer(("127.0.0.1", 0), _QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        status, err = _run(capsys, "--executor", "ray", "--address", address, out=str(tmp_path / "out"))
    finally:
        server.shutdown()
    message = f"cannot reach a Ray cluster at {address}: what answers there is not a Ray head node"
    assert (status, err) == (2, f"stitchc: error: {message}\n")


def test_ray_address_in_the_environment_is_the_address(monkeypatch, capsys, tmp_path):
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    status, err = _run(capsys, "--executor", "ray", out=str(tmp_path / "out"))
    assert (status, err) == (2, "stitchc: error: cannot reach a Ray cluster at 127.0.0.1:1: Connection refused\n")


def test_an_address_needs_the_ray_executor(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_status:
        _run(capsys, "--address", "127.0.0.1:6379", out=str(tmp_path / "out"))
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "stitchc: error: --address needs --executor ray"


@pytest.mark.parametrize("has_token", [True, False])
def test_a_token_on_this_machine_turns_on_token_authentication(monkeypatch, tmp_path, has_token):
    """As `ray start --address` does: a cluster started by Ray 2.5x refuses a connection without the token."""
    from stitchc.evolve.ray_executor import _use_token_if_any

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    if has_token:
        (tmp_path / ".ray").mkdir()
        (tmp_path / ".ray" / "auth_token").write_text("x" * 32)
    _use_token_if_any()
    assert os.environ.get("RAY_AUTH_MODE") == ("token" if has_token else None)
