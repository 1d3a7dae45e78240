"""report.html: hover details for every candidate, links to the exported files, a diagram of each front network;
`stitchc report` and `stitchc show` read a run folder back; the page renders in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time

import onnx
import pytest
from onnx import TensorProto, helper

from stitchc.cli import main
from stitchc.front_diagram import depths, diagram, joined, owner

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def run_dir(small_spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", small_spec("nsga2(population = 12, generations = 3, seed = 1)"), "--out", str(out)]) == 0
    return out


def _page(folder) -> str:
    return (folder / "report.html").read_text()


def _front(folder) -> dict:
    return json.loads((folder / "front.json").read_text())


def test_every_candidate_has_hover_details(run_dir):
    titles = re.findall(r'<circle class="candidate"[^>]*><title>([^<]*)</title></circle>', _page(run_dir))
    archive = {tuple(json.loads(t.split("genome ")[1])) for t in titles}
    assert set(tuple(p["genome"]) for p in _front(run_dir)["front"]) <= archive
    assert all(
        re.match(r"accuracy\(digits.val\) [0-9.]+, macs [0-9.e+]+; [\d,]+ MACs, [\d,]+ parameters; genome", t)
        for t in titles
    )
    assert len(re.findall(r'<rect class="parent"[^>]*><title>parent ', _page(run_dir))) == 2


def test_links_to_every_exported_file(run_dir):
    links = re.findall(r'<li><a href="([^"]+)">', _page(run_dir))
    assert links == ["front.json", *(p["file"] for p in _front(run_dir)["front"])]
    assert all((run_dir / link).exists() for link in links)


def test_a_diagram_per_front_network_shows_parents_and_stitches(run_dir):
    page = _page(run_dir)
    diagrams = re.findall(r'<svg class="diagram".*?</svg>', page)
    front = _front(run_dir)["front"]
    assert len(diagrams) == len(front)
    colours = {"a": "#1f5fbf", "b": "#c0392b"}
    for point, svg in zip(front, diagrams):
        nodes = list(onnx.load(run_dir / point["file"]).graph.node)
        for parent, colour in colours.items():
            assert svg.count(f'fill="{colour}"><title>') == sum(n.name.startswith(f"{parent}/") for n in nodes)
        stitched = [f"{option[5:]}->{gene}" for gene, option in point["choices"].items() if option.startswith("from ")]
        assert all(f"<title>{html.escape(name)} (" in svg for name in stitched), (stitched, point["file"])
        ours = [n for n in nodes if not n.name.startswith(("a/", "b/"))]
        assert svg.count('class="stitch"') == len(ours)


def _chain_model() -> onnx.ModelProto:
    """a/x -> a.x->b.y (stitch) -> b/y, with b/z beside reading the input, joined by a mean."""
    nodes = [
        helper.make_node("Relu", ["in"], ["ax"], name="a//x"),
        helper.make_node("Identity", ["ax"], ["s"], name="a.x->b.y"),
        helper.make_node("Relu", ["s"], ["by"], name="b//y"),
        helper.make_node("Relu", ["in"], ["bz"], name="b//z"),
        helper.make_node("Mean", ["by", "bz"], ["out"], name="ensemble_mean"),
    ]
    value = helper.make_tensor_value_info
    graph = helper.make_graph(nodes, "g", [value("in", TensorProto.FLOAT, [1])], [value("out", TensorProto.FLOAT, [1])])
    return helper.make_model(graph)


def test_diagram_places_nodes_by_depth_and_parent():
    model = _chain_model()
    assert depths(model.graph.node) == [0, 1, 2, 0, 3]
    assert [owner(n.name, ["a", "b"]) for n in model.graph.node] == ["a", None, "b", "b", None]
    assert joined("a.x->b.y", ["a", "b", "c"]) == ["a", "b"] and joined("ensemble_mean", ["a", "b"]) == ["a", "b"]
    svg = diagram(model, ["a", "b"])
    assert svg.count('class="node"') == 3 and svg.count('class="stitch"') == 2
    # the stitch sits between the lanes (y 24 and 80), in column 1 (x 90 + 22)
    assert 'x="106.0" y="46.0" width="12" height="12" fill="#27ae60" transform="rotate(45 112.0 52.0)"' in svg


def test_report_writes_the_same_page_again_and_show_the_same_table(run_dir, small_spec, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    written = _page(copy)
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert capsys.readouterr().out == f"wrote {copy / 'report.html'}\n"
    assert _page(copy) == written
    assert main(["run", small_spec("nsga2(population = 12, generations = 3, seed = 1)"), "--out", str(copy)]) == 0
    printed = capsys.readouterr().out
    assert main(["show", str(copy)]) == 0
    assert capsys.readouterr().out == printed


def test_report_without_the_store_plots_the_front_and_parents(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "evaluations.sqlite").unlink()
    assert main(["report", str(copy)]) == 0
    assert _page(copy).count('class="candidate"') == len(_front(copy)["front"]) + 2


def test_run_folder_errors_are_one_line(tmp_path, run_dir, capsys):
    assert main(["show", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"stitchc: error: {tmp_path / 'front.json'}: cannot read (No such file or directory); "
        f"is {tmp_path} a run folder?\n"
    )
    (tmp_path / "front.json").write_text('{"search": "x"}')
    assert main(["report", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"stitchc: error: {tmp_path / 'front.json'}: not a front.json written by stitchc (KeyError: 'objectives')\n"
    )
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "front_00.onnx").write_bytes(b"not a model")
    assert main(["report", str(copy)]) == 2
    assert capsys.readouterr().err.startswith(f"stitchc: error: {copy / 'front_00.onnx'}: cannot read the model (")


def test_report_renders_in_headless_chromium(run_dir):
    """The page loads in a real browser without console errors; its plot, table, diagrams and links are there."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
    started = time.perf_counter()
    front = _front(run_dir)["front"]
    errors = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((run_dir / "report.html").as_uri())
        assert page.title() == "stitchc: front"
        assert page.locator("svg circle.front").count() == len(front)
        assert page.locator("svg circle.candidate").count() >= len(front)
        assert page.locator("svg.diagram").count() == len(front)
        assert page.locator("table tr").count() == 1 + 2 + len(front)
        assert page.locator("svg circle.front").first.bounding_box()["width"] > 0  # laid out, visible
        assert page.locator("ul.files a").count() == 1 + len(front)
        browser.close()
    assert errors == []
    assert time.perf_counter() - started < 60
