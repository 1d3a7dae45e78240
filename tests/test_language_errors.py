"""The rest of the malformed-spec corpus: rules, points, imports, pipelines, morphisms, torch models.

Each case gives the exact first diagnostic `file:line:col: error: message`, exit status 2, no traceback.
"""

from __future__ import annotations

import pytest

from stitchc.cli import main

SPEC = """stitch 1
data digits = dataset("sklearn:digits")
model a = onnx("{a}")
model b = onnx("{b}")
stitch ab = a <-> b {{
    points = [a.conv2 -> b.conv3, b.relu4 -> a.relu2]
    fit    = digits.train(samples = 64)
}}
rule fold {{
    match   {{ %y = Conv(%x, %w, %b?) {{...}}
               %z = BatchNormalization(%y, %g, %beta, %m, %v) {{epsilon: $eps, ...}} }}
    where   {{ is_const(%w, %g, %beta, %m, %v); single_use(%y); }}
    compute {{ k = %g / sqrt(%v + $eps); w2 = %w * reshape(k, [-1, 1, 1, 1]);
               b2 = (default(%b, 0) - %m) * k + %beta; }}
    rewrite {{ %z = Conv(%x, w2, b2) {{...}} }}
    ensures allclose(tol = 1e-5);
}}
morphism widen(layer: Conv, factor: int in 1..3 = 2) = net2wider
mutation jitter(rate: float = 0.01) = sparse_gaussian
pipeline clean = [fold, dce, fold_conv_bn]
search front over ab {{
    genome     = [switches, program(widen, jitter, max = 4)]
    algorithm  = nsga2(population = 8, generations = 1)
    objectives = [maximize accuracy(digits.val), minimize macs]
}}
"""

# (replace this, with this, expected text after "spec.stitch:")
CASES = [
    ("b.conv3,", "b.conv9,", "6:26: error: no node 'conv9' in model b"),
    ("a.conv2 ->", "a.conv -> ", "6:15: error: no node 'conv' in model a"),
    (
        "b.conv3,",
        "b.fc1,",
        "6:15: error: cannot stitch a.conv2 (float32[N, 16, 4, 4]) -> b.fc1 (float32[N, 128]): one is a [N, C, H, W] feature map and the other a [N, C] vector",
    ),
    (
        "b.conv3,",
        "b.conv1,",
        "6:15: error: cannot stitch a.conv2 (float32[N, 16, 4, 4]) -> b.conv1 (float32[N, 32, 8, 8]): spatial sizes differ",
    ),
    ("b.relu4 -> a.relu2", "b.relu4 -> b.relu2", "6:35: error: both ends of 'b.relu4 -> b.relu2' are in model b"),
    ("b.relu4 ->", "c.relu4 ->", "6:35: error: 'c.relu4' does not name a layer of a or b"),
    (
        "[a.conv2 -> b.conv3, b.relu4 -> a.relu2]",
        "[a.conv2]",
        "6:15: error: a stitch point pair is written `a.layer -> b.layer`",
    ),
    ("[a.conv2 -> b.conv3, b.relu4 -> a.relu2]", "auto(similarity = ckaa)", "6:32: error: unknown similarity 'ckaa'"),
    ("    fit ", "    resize = maybe\n    fit ", "7:14: error: unknown resize 'maybe'"),
    (
        "    fit ",
        "    refine = sgd(loss = feature, epochs = 0)\n    fit ",
        "7:43: error: 'epochs' must be at least 1, got 0",
    ),
    ("    fit ", "    refine = sgd(lr = -1)\n    fit ", "7:23: error: 'lr' must be a number in (0, 10]"),
    ("%z = Conv(%x, w2, b2)", "%z = Conv(%x, w3, b2)", "15:29: error: unbound name 'w3' in rule 'fold'"),
    ("%z = Conv(%x, w2, b2)", "%z = Conv(%q, w2, b2)", "15:25: error: unbound value '%q' in rule 'fold'"),
    (
        "%z = Conv(%x, w2, b2)",
        "%t = Conv(%x, w2, b2)",
        "9:6: error: the rewrite of rule 'fold' must define %z (the result of the match root)",
    ),
    ("sqrt(%v + $eps)", "sqrt(%v + $epsilon)", "13:34: error: unbound attribute '$epsilon' in rule 'fold'"),
    ("sqrt(%v", "sqr(%v", "13:24: error: unknown function 'sqr'"),
    ("reshape(k, [-1, 1, 1, 1])", "reshape(k)", "13:51: error: reshape() takes 2 arguments, got 1"),
    ("single_use(%y)", "single_use(k)", "12:59: error: single_use() takes %values"),
    ("%y = Conv(%x", "%y = Cnov(%x", "10:20: error: unknown ONNX op 'Cnov'"),
    ("%y = Conv(%x", "%y = activ(%x", "10:20: error: unknown op class 'activ'"),
    ("%z = Conv(%x, w2", "%z = Conv|Gemm(%x, w2", "15:20: error: a rewrite creates one op, not alternatives"),
    (
        "BatchNormalization(%y,",
        "BatchNormalization(%q,",
        "9:6: error: the match of rule 'fold' needs exactly one root (a statement whose result the pattern does not use); found %y, %z",
    ),
    ("allclose(tol = 1e-5)", "allclose(tol = 0)", "16:28: error: 'tol' must be a positive number"),
    ("ensures allclose", "ensures roughly", "16:13: error: unknown check 'roughly'"),
    ("int in 1..3 = 2", "int in 1..3 = 5", "18:51: error: the default 5 of 'factor' is outside 1..3"),
    ("int in 1..3", "innt in 1..3", "18:37: error: unknown parameter type 'innt'"),
    ("= net2wider", "= net2wder", "18:56: error: unknown morphism implementation 'net2wder'"),
    ("int in 1..3", "int in 3..1", "18:44: error: empty range 3..1"),
    ("[fold, dce,", "[fold, dcee,", "20:25: error: unknown pass 'dcee'"),
    ("program(widen, jitter", "program(widen, jiter", "22:44: error: unknown morphism or mutation 'jiter'"),
    ("rule fold {", "rule a {", "9:6: error: 'a' is already declared"),
    (
        "where   {{ is_const",
        "where   {{ is_const(%w) is_const",
        "12:28: error: unexpected name 'is_const'; expected one of ')', '*', '**', '+', ',', '-', '/', ';', ']', 'and', 'or', '}', a comparison",
    ),
    ("%b?) {{...}}", "%b?) {{..}}", "10:39: error: unexpected '..'; expected one of '...', '}', a name"),
    (
        'onnx("{b}")',
        'torch("{py}:Net", input = f32[N, 1, 8, 8])',
        "4:17: error: cannot import model 'b': no nn.Module class 'Net' (defines: none)",
    ),
    ('onnx("{b}")', 'torch(input = f33[N, 1, 8], "{py}:Net")', "4:25: error: unknown element type 'f33'"),
    ('onnx("{b}")', 'torch("{py}", input = f32[N, 1, 8])', '4:17: error: expected "file.py:Class", got "{py}"'),
    ("stitch 1\n", 'stitch 1\nimport "missing.stitch"\n', "2:8: error: imported file 'missing.stitch' not found"),
    ("stitch 1\n", 'stitch 1\nuse "missing.py"\n', "2:5: error: pass file 'missing.py' not found"),
]


def _write(tmp_path, parent_paths, old: str, new: str) -> str:
    py = tmp_path / "nets.py"
    py.write_text("class Net:\n    pass\n")
    text = SPEC.format(a=parent_paths[0], b=parent_paths[1])
    old = old.replace("{{", "{").replace("}}", "}").replace("{b}", parent_paths[1])
    assert old in text, old
    new = new.replace("{{", "{").replace("}}", "}").replace("{py}", str(py))
    path = tmp_path / "spec.stitch"
    path.write_text(text.replace(old, new, 1))
    return str(path)


def test_template_is_valid(tmp_path, parent_paths, capsys):
    assert main(["check", _write(tmp_path, parent_paths, "", "")]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("old,new,expected", CASES, ids=[c[2].split(": error: ")[1][:40] for c in CASES])
def test_language_diagnostic(tmp_path, parent_paths, capsys, old, new, expected):
    path = _write(tmp_path, parent_paths, old, new)
    assert main(["check", path]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"{path}:{expected.replace('{py}', str(tmp_path / 'nets.py'))}"
    assert "Traceback" not in err


def test_unknown_point_has_hint(tmp_path, parent_paths, capsys):
    main(["check", _write(tmp_path, parent_paths, "b.conv3,", "b.cnv3,")])
    assert "    hint: did you mean 'conv3'?" in capsys.readouterr().err.splitlines()


def test_rule_errors_are_all_reported(tmp_path, parent_paths, capsys):
    path = _write(tmp_path, parent_paths, "%z = Conv(%x, w2, b2)", "%z = Conv(%q, w3, b2)")
    main(["check", path])
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert [e.split(": error: ")[1] for e in errors] == [
        "unbound value '%q' in rule 'fold'",
        "unbound name 'w3' in rule 'fold'",
    ]


def test_cyclic_import(tmp_path, capsys):
    (tmp_path / "one.stitch").write_text('stitch 1\nimport "two.stitch"\n')
    (tmp_path / "two.stitch").write_text('stitch 1\n\nimport "one.stitch"\n')
    assert main(["check", str(tmp_path / "one.stitch")]) == 2
    err = capsys.readouterr().err
    assert (
        err.splitlines()[0]
        == f"{tmp_path / 'two.stitch'}:3:8: error: import cycle: one.stitch -> two.stitch -> one.stitch"
    )
    assert '    import "one.stitch"' in err


def test_error_inside_imported_file_is_located_there(tmp_path, capsys):
    (tmp_path / "lib.stitch").write_text("stitch 1\npipeline p = [dcee]\n")
    (tmp_path / "main.stitch").write_text('stitch 1\nimport "lib.stitch"\npipeline q = [dce]\n')
    assert main(["check", str(tmp_path / "main.stitch")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{tmp_path / 'lib.stitch'}:2:15: error: unknown pass 'dcee'"
    assert lines[1] == "    pipeline p = [dcee]"


def test_import_name_clash(tmp_path, capsys):
    (tmp_path / "lib.stitch").write_text("stitch 1\npipeline p = [dce]\n")
    (tmp_path / "main.stitch").write_text('stitch 1\npipeline p = [dce]\nimport "lib.stitch"\n')
    assert main(["check", str(tmp_path / "main.stitch")]) == 2
    assert (
        capsys.readouterr().err.splitlines()[0]
        == f"{tmp_path / 'main.stitch'}:3:8: error: 'p' from lib.stitch is already declared"
    )


def test_broken_pass_file_is_located_error(tmp_path, capsys):
    (tmp_path / "bad.py").write_text("x = 1\ny = 1 / 0\n")
    (tmp_path / "main.stitch").write_text('stitch 1\nuse "bad.py"\npipeline q = [dce]\n')
    assert main(["check", str(tmp_path / "main.stitch")]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert (
        first
        == f"{tmp_path / 'main.stitch'}:2:5: error: cannot load passes from 'bad.py' (line 2): ZeroDivisionError: division by zero"
    )
