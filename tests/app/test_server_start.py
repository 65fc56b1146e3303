"""``emovc app`` start-up: bad options and launch failures are one-line errors that leave no
work folder behind."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

import pytest

from emovc.app.limits import UploadLimits
from emovc.app.server import launch
from emovc.cli.main import main
from emovc.errors import ConfigError, EmovcError

from .conftest import fake_factories


@pytest.fixture()
def temp_root(tmp_path: Path, monkeypatch) -> Path:
    """The system temp dir, redirected: where launch() makes its ``emovc-app-*`` folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _work_dirs(root: Path) -> list[Path]:
    return sorted(root.glob("emovc-app-*"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"port": -1}, "--port must be 1-65535"),
    ({"port": 70000}, "--port must be 1-65535"),
    ({"host": "999.1.1.1"}, "cannot use --host '999.1.1.1'"),
])
def test_bad_options_fail_before_any_work(temp_root: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        launch(**{"port": 0, "factories": fake_factories(), "quiet": True, **kwargs})
    assert _work_dirs(temp_root) == []


def test_an_infinite_limit_fails_before_any_work(temp_root: Path) -> None:
    with pytest.raises(ConfigError, match="--max-upload-mb must be a finite"):
        launch(port=0, factories=fake_factories(), quiet=True,
               limits=UploadLimits(max_upload_mb=float("inf")))
    assert _work_dirs(temp_root) == []


def test_busy_port_is_a_one_line_error_and_the_work_dir_goes(temp_root: Path,
                                                             monkeypatch) -> None:
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(EmovcError, match=f"cannot start the app on 127.0.0.1:{port}: "
                                             f"port {port} is in use;") as info:
            launch(port=port, factories=fake_factories(), quiet=True)
    assert "\n" not in str(info.value)
    assert _work_dirs(temp_root) == []
    assert "GRADIO_TEMP_DIR" not in os.environ


# uvicorn's server thread ends with SystemExit when it cannot bind: gradio's start-up
# failure, not the app's
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_address_of_another_machine_is_named_as_such(temp_root: Path) -> None:
    # 192.0.2.1 (TEST-NET-1, RFC 5737) is never a machine's own address; the message says
    # so rather than leaving the user to choose between a busy port and a foreign address
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    with pytest.raises(EmovcError, match=f"cannot start the app on 192.0.2.1:{port}: "
                                         "192.0.2.1 is not an address of this machine;"):
        launch(host="192.0.2.1", port=port, factories=fake_factories(), quiet=True)
    assert _work_dirs(temp_root) == []


def test_cli_port_out_of_range_exits_2(temp_root: Path, capsys) -> None:
    assert main(["app", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "emovc: error: --port must be 1-65535 (0 = any free port), got 70000"
    assert _work_dirs(temp_root) == []


def test_without_gradio_the_cli_names_the_extra_to_install(temp_root: Path, capsys,
                                                           monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)  # find_spec: not installed
    assert main(["app", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "emovc: error: the app needs gradio: pip install 'emovc[app]'"
    assert _work_dirs(temp_root) == []
