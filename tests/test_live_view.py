"""The live view of `stitchc run`: plain lines in a log, JSON events, quiet, rich bars on a terminal; --version,
--device cuda on a machine without CUDA, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import rich.console

from stitchc.cli import main
from stitchc.metadata import stitchc_version
from stitchc.progress import Generation, Terminal, describe, use
from tests.conftest import front_bytes

PHASES = ["load", "plan", "fit", "search", "export"]


def test_json_mode_prints_one_event_per_line_and_nothing_else(tmp_path, small_spec, capsys):
    out = tmp_path / "out"
    assert main(["run", small_spec(), "--out", str(out), "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "summary"
    assert [e["phase"] for e in events if e["event"] == "phase_start"] == PHASES
    assert [e["phase"] for e in events if e["event"] == "phase_end"] == PHASES
    generations = [e for e in events if e["event"] == "generation"]
    assert [g["generation"] for g in generations] == [0, 1, 2]
    assert all(set(g["best"]) == {"accuracy(digits.val)", "macs"} and 0 < g["hypervolume"] <= 1 for g in generations)
    fit = [e for e in events if e["event"] == "advance" and e["phase"] == "fit"]
    assert fit[-1]["completed"] == fit[-1]["total"] == 128
    summary = events[-1]
    document = json.loads((out / "front.json").read_text())
    assert summary["front"] == document["front"]
    assert summary["files"][:2] == [str(out / "front.json"), str(out / "report.html")]
    assert summary["files"][2:] == [str(out / p["file"]) for p in document["front"]]
    assert all(os.path.exists(f) for f in summary["files"])


def test_plain_lines_name_each_phase_then_the_files_written(tmp_path, small_spec, capsys):
    out = tmp_path / "out"
    spec = small_spec()
    assert main(["run", spec, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0] == f"stitchc {stitchc_version()}: running {spec}"
    assert err[1].startswith("loaded 1 data set and 2 parents (")
    assert err[2].startswith("matched ") and err[3].startswith("stitch ab: ")
    assert [line.split(":")[0] for line in err[4:7]] == ["  generation 0/2", "  generation 1/2", "  generation 2/2"]
    assert "best accuracy(digits.val)" in err[4] and "ETA" not in err[4]  # the pace shows from the second on
    assert ", ETA 0m0" in err[5] and "ETA" not in err[6]
    assert err[7].startswith("search front (nsga2): ") and err[8].startswith("measured ")
    front = [p["file"] for p in json.loads((out / "front.json").read_text())["front"]]
    assert err[-2] == f"wrote {out / 'front.json'}, {out / 'report.html'}"
    assert err[-1] == f"wrote {len(front)} ONNX models to {out}: {', '.join(front)}"
    assert captured.out.splitlines()[0].split()[0] == "model"


def test_quiet_prints_the_table_only(tmp_path, small_spec, capsys):
    assert main(["run", small_spec(), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines()[0].split()[0] == "model"


def test_quiet_and_json_exclude_each_other(tmp_path, small_spec, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["run", small_spec(), "--quiet", "--json"])
    assert exit.value.code == 2
    assert "argument --json: not allowed with argument --quiet" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"stitchc {stitchc_version()}\n"


def test_terminal_shows_a_bar_per_phase_and_the_search_details():
    stream = io.StringIO()
    sink = Terminal(rich.console.Console(file=stream, force_terminal=True, width=120))
    record = Generation(3, 10, 40, {"accuracy(d.val)": 0.97, "macs": 23680}, 0.5)
    with use(sink):
        sink.phase_start("search", "search front", 11)
        sink.generation(Generation(2, 10, 30, {"accuracy(d.val)": 0.96, "macs": 23680}, 0.4))
        sink.generation(record)
        sink.bars.refresh()
        shown = stream.getvalue()
        sink.phase_end("search front: done")
    assert "search front" in shown and "4/11" in shown
    assert re.search(
        r"40 evaluated, [0-9.]+/s, best accuracy\(d.val\) 0.97, macs 23,680, hypervolume 0.5000, ETA 0m00s", shown
    )
    assert "search front: done (" in stream.getvalue()


def test_describe_gives_rate_and_eta():
    record = Generation(3, 10, 1234, {"accuracy(d.val)": 0.98765, "macs": 1.5e6}, 0.8097)
    assert describe(record, 14.25, 65) == (
        "1,234 evaluated, 14.2/s, best accuracy(d.val) 0.9877, macs 1,500,000, hypervolume 0.8097, ETA 1m05s"
    )


def _run_cli(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "stitchc.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_device_cuda_without_cuda_says_so_once_and_runs_on_the_cpu(tmp_path, small_spec):
    """No GPU here: one note line, no ONNX Runtime error output, the same front as on the CPU."""
    spec = small_spec()
    cuda = _run_cli(["run", spec, "--out", str(tmp_path / "gpu"), "--device", "cuda"])
    out, err = cuda.communicate(timeout=120)
    assert cuda.returncode == 0, err
    notes = [line for line in err.replace(str(tmp_path), "").splitlines() if "cuda" in line.lower()]
    assert len(notes) == 1 and notes[0].startswith("stitchc: note: --device cuda: ")
    assert notes[0].endswith("; running on the CPU")
    assert "onnxruntime" not in err.lower().replace("onnx runtime", "") and "[E:" not in err
    assert main(["run", spec, "--out", str(tmp_path / "cpu"), "--quiet"]) == 0
    assert front_bytes(tmp_path / "gpu") == front_bytes(tmp_path / "cpu")


def test_ctrl_c_says_that_a_rerun_resumes(tmp_path, small_spec):
    spec = small_spec("nsga2(population = 48, generations = 400, seed = 1)")
    run = _run_cli(["run", spec, "--out", str(tmp_path / "out")])
    deadline = time.monotonic() + 60
    for line in run.stderr:  # interrupt once the search is under way
        if line.startswith("  generation") or time.monotonic() > deadline:
            break
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130
    assert err.splitlines()[-1] == (
        "stitchc: interrupted; run the same command again to resume: the evaluations made so far are kept in "
        "the run folder"
    )
    assert "Traceback" not in err


def test_torch_trains_on_cuda_only_when_asked_and_torch_sees_a_gpu(monkeypatch):
    import torch

    from stitchc.ir.device import torch_device

    monkeypatch.setenv("STITCHC_DEVICE", "cuda")
    assert torch_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_device() == torch.device("cuda")
    monkeypatch.setenv("STITCHC_DEVICE", "cpu")
    assert torch_device() == torch.device("cpu")
