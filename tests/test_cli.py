"""The ``bitlogic`` command line: train, eval, export, info, presets and its errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from bitlogic.cli import main
from bitlogic.netlist import InputEncoding, InputScaling, LogicNetlist, NetlistLayer
from bitlogic.train.metrics import read_metrics
from tests.cli.run_cli import run_cli

# One --set may carry several overrides, and --set may repeat (both forms are used).
SMALL = ["--set", "model.widths=[60,60]", "train.num_threads=1",
         "--set", "train.max_steps_per_epoch=4"]




@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "run"
    code, out, _ = run_cli(["train", "--preset", "digits-tiny", "--out", str(run), "--epochs", "2",
                         "--seed", "3", "--quiet", *SMALL])
    assert code == 0
    assert f"run: {run}" in out and "test accuracy: soft" in out
    return run


def test_train_writes_a_complete_run_directory(run_dir):
    for name in ("config.yaml", "checkpoint.safetensors", "best.safetensors", "metrics.csv",
                 "metrics.json", "loss.png", "accuracy.png", "netlist.safetensors"):
        assert (run_dir / name).is_file(), name
    config = (run_dir / "config.yaml").read_text()
    assert "seed: 3" in config and "epochs: 2" in config and "- 60" in config
    assert "num_threads: 1" in config and "max_steps_per_epoch: 4" in config


def test_eval_json_of_a_run_matches_the_training_summary(run_dir):
    code, out, _ = run_cli(["eval", str(run_dir), "--json"])
    assert code == 0
    report = json.loads(out)  # exactly one JSON object and nothing else
    summary = read_metrics(run_dir)["summary"]
    assert report["split"] == "test" and report["n"] == 449
    assert report["accuracy"] == summary["test_discrete_acc"]


def test_eval_of_the_netlist_on_the_packed_engine_agrees(run_dir):
    _, out_run, _ = run_cli(["eval", str(run_dir), "--json"])
    code, out, _ = run_cli(["eval", str(run_dir / "netlist.safetensors"), "--json"])
    assert code == 0
    report = json.loads(out)
    assert report["engine"].startswith("packed")
    assert report["accuracy"] == json.loads(out_run)["accuracy"]
    assert report["samples_per_s"] > 0


def test_eval_validation_split(run_dir):
    code, out, _ = run_cli(["eval", str(run_dir), "--split", "val", "--json"])
    assert code == 0
    report = json.loads(out)
    assert report["split"] == "val" and report["n"] == 135  # 10% of the 1348 digits
    best = read_metrics(run_dir)["summary"]["best_val_discrete_acc"]
    assert report["accuracy"] == pytest.approx(best)


def test_eval_per_class_accuracy_agrees_between_model_and_netlist(run_dir):
    reports = [json.loads(run_cli(["eval", str(path), "--json"])[1])
               for path in (run_dir, run_dir / "netlist.safetensors")]
    assert reports[0]["class_accuracy"] == reports[1]["class_accuracy"]
    per_class = reports[0]["class_accuracy"]
    assert len(per_class) == 10 and all(0.0 <= a <= 1.0 for a in per_class)
    code, out, _ = run_cli(["eval", str(run_dir), "--per-class"])
    lines = out.splitlines()
    assert code == 0 and len(lines) == 11
    # digits' class names are its digits; the counts are the test split's (449 in all)
    counts = [int(line.split(" on ")[1].split()[0]) for line in lines[1:]]
    assert [line.split(":")[0] for line in lines[1:]] == [f"  class {c} {c}" for c in range(10)]
    assert sum(counts) == 449
    assert sum(a * n for a, n in zip(per_class, counts, strict=True)) / 449 == \
        pytest.approx(reports[0]["accuracy"])


def test_eval_plain_text(run_dir):
    code, out, _ = run_cli(["eval", str(run_dir / "netlist.safetensors")])
    assert code == 0 and out.startswith("digits test: accuracy ") and "samples/s" in out


def test_export_netlist_from_run_and_checkpoint(run_dir, tmp_path):
    reference = LogicNetlist.load(run_dir / "netlist.safetensors")
    for source in (run_dir, run_dir / "best.safetensors"):
        out = tmp_path / source.name
        code, printed, _ = run_cli(["export", str(source), "--format", "netlist",
                                    "--out", str(out)])
        assert code == 0
        assert printed.strip() == str(out / "netlist.safetensors")
        assert LogicNetlist.load(out / "netlist.safetensors").layers == reference.layers


@pytest.mark.parametrize("fmt, function", [("c", "emit_c"), ("verilog", "emit_verilog")])
def test_export_c_and_verilog(run_dir, tmp_path, fmt, function):
    import bitlogic.backends as backends

    if not hasattr(backends, function):
        pytest.skip(f"bitlogic.backends.{function} is not available in this build yet")
    code, printed, err = run_cli(["export", str(run_dir), "--format", fmt, "--out", str(tmp_path)])
    assert code == 0, err
    written = [line for line in printed.splitlines() if line]
    assert written and all((tmp_path / line).is_file() or line.startswith(str(tmp_path))
                           for line in written)
    assert any(p.suffix in {".c", ".h", ".v", ".sv"} for p in tmp_path.iterdir())


def test_info_reports_layers_luts_parameters_and_gates(run_dir):
    code, out, _ = run_cli(["info", str(run_dir)])
    assert code == 0
    assert "64 features x 3 thresholds = 192 input bits" in out
    assert "rank 4: 120" in out and "gates: 120" in out and "parameters: 1920" in out
    code, out, _ = run_cli(["info", str(run_dir / "netlist.safetensors"), "--json"])
    info = json.loads(out)
    assert [layer["neurons"] for layer in info["layers"]] == [60, 60]
    assert [layer["inputs"] for layer in info["layers"]] == [192, 60]
    assert info["luts_by_rank"] == {"4": 120} and info["gates"] == 120
    assert info["parameters"] is None and info["dataset"] == "digits"


def test_synth_report(run_dir):
    import bitlogic.backends as backends

    if not hasattr(backends, "synth_report"):
        pytest.skip("bitlogic.backends.synth_report is not available in this build yet")
    code, out, err = run_cli(["synth-report", str(run_dir / "netlist.safetensors")])
    assert code == 0, err
    assert out.strip()


def test_cli_resume_continues_bit_identically(tmp_path):
    straight, resumed = tmp_path / "a", tmp_path / "b"
    assert run_cli(["train", "--out", str(straight), "--epochs", "2", "--quiet", *SMALL])[0] == 0
    assert run_cli(["train", "--out", str(resumed), "--epochs", "1", "--quiet", *SMALL])[0] == 0
    assert run_cli(["train", "--out", str(resumed), "--resume", "--epochs", "2", "--quiet"])[0] == 0
    a = load_file(str(straight / "checkpoint.safetensors"))
    b = load_file(str(resumed / "checkpoint.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_presets_command_lists_the_registry():
    code, out, _ = run_cli(["presets"])
    assert code == 0
    assert {line.split()[0] for line in out.splitlines()} >= {"digits-tiny", "mnist-s"}
    code, out, _ = run_cli(["presets", "--show", "mnist-dwn"])
    assert "parametrization: dwn" in out


@pytest.mark.parametrize("argv, fragment", [
    (["eval", "/nonexistent/run"], "/nonexistent/run does not exist"),
    (["info", "/nonexistent/net.safetensors"], "does not exist"),
    (["export", "/nonexistent", "--format", "c", "--out", "x"], "does not exist"),
    (["train", "--preset", "mnist-xxl"], "valid presets: breast-cancer, "),
    (["train", "--set", "train.epoch=2"], "valid keys: "),
    (["train", "--set", "train.epochs"], "--set expects key=value"),
    (["train", "--resume"], "--resume needs --out"),
])
def test_user_errors_exit_2_with_one_line(argv, fragment, tmp_path):
    code, out, err = run_cli(argv)
    assert code == 2
    assert err.startswith("bitlogic: error: ") and fragment in err
    assert "Traceback" not in err and out == ""


def test_resume_of_a_missing_run_is_a_clean_error(tmp_path):
    code, _, err = run_cli(["train", "--out", str(tmp_path / "none"), "--resume"])
    assert code == 2 and "config.yaml" in err and "does not exist" in err


def test_a_file_that_is_not_an_artifact(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    code, _, err = run_cli(["info", str(bogus)])
    assert code == 2 and "is not a safetensors file" in err


def test_console_script_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "bitlogic.cli", "eval", "/no/such/run"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "bitlogic: error: /no/such/run does not exist"


def test_unknown_dataset_is_a_user_error(run_dir):
    code, out, err = run_cli(["eval", str(run_dir / "netlist.safetensors"), "--dataset", "mnsit"])
    assert code == 2 and out == ""
    assert "dataset.name must be one of" in err and "'digits'" in err


def test_a_bad_count_is_an_argparse_error(run_dir, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["eval", str(run_dir), "--threads", "0"])
    assert exit_.value.code == 2 and "expected a positive integer" in capsys.readouterr().err


def test_an_internal_error_keeps_its_traceback(run_dir, monkeypatch):
    import bitlogic.train

    def broken(model):
        raise ValueError("internal bug")

    # A ValueError from inside a command is a bug, not bad input: it must not be
    # turned into "bitlogic: error: ..." and exit status 2.
    monkeypatch.setattr(bitlogic.train, "count_parameters", broken)
    with pytest.raises(ValueError, match="internal bug"):
        main(["info", str(run_dir)])


def test_export_formats_come_from_the_registry(run_dir, tmp_path):
    from bitlogic.cli import EXPORTERS, build_parser

    assert build_parser().parse_args(["export", "x", "--format", "c", "--out", "o"]).format == "c"

    def toy(art, out, args):
        path = out / "toy.txt"
        path.write_text(str(art.netlist().num_gates))
        return [path]

    EXPORTERS.register("toy", toy)
    try:
        code, printed, _ = run_cli(["export", str(run_dir), "--format", "toy", "--out",
                                 str(tmp_path)])
        assert code == 0 and printed.strip() == str(tmp_path / "toy.txt")
        assert (tmp_path / "toy.txt").read_text() == "120"
    finally:
        EXPORTERS.unregister("toy")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "x", "--format", "toy", "--out", "o"])


def test_synth_targets_come_from_the_flow_registry():
    from bitlogic.backends.synth import FLOWS, SynthFlow
    from bitlogic.cli import build_parser

    FLOWS.register("toy_fpga", SynthFlow("proc"))
    try:
        args = build_parser().parse_args(["synth-report", "net", "--target", "toy_fpga"])
        assert args.target == "toy_fpga"
    finally:
        FLOWS.unregister("toy_fpga")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["synth-report", "net", "--target", "toy_fpga"])


def test_export_into_a_file_is_a_user_error(run_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(["export", str(run_dir), "--format", "netlist", "--out", str(blocker)])
    assert code == 2 and "is not a directory" in err


def test_training_into_a_finished_run_is_a_user_error(run_dir):
    code, _, err = run_cli(["train", "--out", str(run_dir), "--quiet"])
    assert code == 2 and "already holds a training checkpoint" in err


def test_info_lists_conv_and_pool_modules_with_output_shapes(tmp_path):
    from torch import nn

    from bitlogic.layers import GroupSum, LogicConv2d, LogicDense, OrPool2d, Thermometer, to_netlist

    torch.manual_seed(0)
    model = nn.Sequential(
        Thermometer(2), LogicConv2d(2, 8, 3, padding=1, tree_depth=2), OrPool2d(2),
        nn.Flatten(), LogicDense(8 * 4 * 4, 40, lut_rank=4), GroupSum(4),
    ).eval()
    path = tmp_path / "conv.netlist.safetensors"
    to_netlist(model, input_shape=(1, 8, 8)).save(path)
    rc, out, _ = run_cli(["info", str(path), "--json"])
    assert rc == 0
    modules = json.loads(out)["modules"]
    assert [(m["module"], m["output_shape"], m["netlist_layers"], m["luts"]) for m in modules] == [
        ("LogicConv2d", [8, 8, 8], 2, 8 * 64 * 2 + 8 * 64),  # level 0: 2 nodes per channel
        ("OrPool2d", [8, 4, 4], 1, 8 * 16),
        ("LogicDense", [40], 1, 40),
    ]
    rc, text, _ = run_cli(["info", str(path)])
    assert rc == 0 and "LogicConv2d" in text and "8x4x4" in text


# -- own data: bitlogic train --data FILE --------------------------------------------------

TABLE_SMALL = ["--epochs", "3", "--quiet", "--set", "model.widths=[30,30]",
               "train.num_threads=1", "train.batch_size=16"]
TABLE_SEED = 5


def _write_table(path, rows: int, seed: int, columns=("a", "b", "c", "species")) -> None:
    """A 3-class CSV whose class follows feature a (learnable in a few epochs)."""
    rng = np.random.default_rng(seed)
    names = ["setosa", "versicolor", "virginica"]
    lines = [",".join(columns)]
    for i in range(rows):
        k = i % 3
        cells = {"a": f"{k * 10 + rng.normal():.3f}", "b": f"{rng.normal() * 100:.3f}",
                 "c": f"{rng.uniform():.3f}", "species": names[k]}
        lines.append(",".join(cells[c] for c in columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    _write_table(folder / "iris.csv", 120, TABLE_SEED)
    _write_table(folder / "new.csv", 30, TABLE_SEED + 1, columns=("c", "species", "a", "b"))
    run = folder / "run"
    code, out, err = run_cli(["train", "--data", str(folder / "iris.csv"), "--target", "species",
                           "--out", str(run), *TABLE_SMALL])
    assert code == 0, err
    return folder, run, out


def test_train_on_a_csv_lists_the_classes_and_records_the_source(table_run):
    from bitlogic.data.table_source import file_sha256
    from bitlogic.train import read_config

    folder, run, out = table_run
    assert "3 features (a, b, c); target 'species', 3 classes: setosa, versicolor, virginica" in out
    assert out.count("test accuracy:") == 1
    d = read_config(run / "config.yaml").dataset
    assert d.path == str((folder / "iris.csv").resolve()) and d.name == "iris"
    assert d.sha256 == file_sha256(folder / "iris.csv")
    assert d.class_names == ["setosa", "versicolor", "virginica"]
    assert d.feature_names == ["a", "b", "c"] and len(d.feature_min) == 3


def _cli(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    """The command line in a new process (nothing registered or cached in this one)."""
    return subprocess.run([sys.executable, "-m", "bitlogic.cli", *argv], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_a_table_run_evaluates_and_exports_in_a_new_process(table_run, tmp_path):
    folder, run, _ = table_run
    summary = read_metrics(run)["summary"]
    # From another working directory: the run records the table's absolute path.
    proc = _cli("eval", str(run), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["dataset"] == "iris" and report["n"] == summary["test_n"] == 30
    assert report["accuracy"] == summary["test_discrete_acc"]
    proc = _cli("export", str(run), "--format", "netlist", "--out", str(tmp_path / "hw"))
    assert proc.returncode == 0, proc.stderr
    netlist = tmp_path / "hw" / "netlist.safetensors"
    for path in (run, netlist):  # the torch model and the packed engine agree on new rows
        proc = _cli("eval", str(path), "--data", str(folder / "new.csv"), "--json")
        assert proc.returncode == 0, proc.stderr
        other = json.loads(proc.stdout)
        assert other["split"] == "all" and other["n"] == 30
        if path == run:
            first = other["accuracy"]
        else:
            assert other["accuracy"] == first


def test_a_changed_table_asks_for_data(table_run, tmp_path):
    import shutil

    folder, run, _ = table_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    config = (copy / "config.yaml").read_text()
    moved = tmp_path / "iris.csv"
    _write_table(moved, 120, TABLE_SEED + 2)
    (copy / "config.yaml").write_text(config.replace(str((folder / "iris.csv").resolve()),
                                                     str(moved)))
    code, _, err = run_cli(["eval", str(copy)])
    assert code == 2 and "changed since training" in err and "--data FILE" in err


def test_an_npz_table_with_many_classes_rounds_the_last_width(tmp_path):
    rng = np.random.default_rng(TABLE_SEED)
    np.savez(tmp_path / "t.npz", X=rng.normal(size=(140, 4)).astype(np.float32),
             y=np.arange(140) % 7)
    code, out, err = run_cli(["train", "--data", str(tmp_path / "t.npz"), "--out",
                           str(tmp_path / "run"), "--epochs", "1", "--set",
                           "train.num_threads=1", "train.max_steps_per_epoch=2"])
    assert code == 0, err
    assert "7 classes: 0, 1, 2, 3, 4, 5, 6" in out
    assert "model.widths [240, 240] -> [240, 245]" in err
    # One end-of-training summary: on stdout, none from the loop on stderr.
    assert out.count("test accuracy:") == 1 and "test: soft" not in err


@pytest.mark.parametrize("text, argv, fragment", [
    ("a,b,kind\n1,2,x\n3,4,y\n", ["--target", "label"],
     "label_column='label' is not a column; columns: ['a', 'b', 'kind']"),
    ("a,b,kind\n1,2,x\n3,nan,y\n", [], "line 3, column 'b': missing value 'nan'"),
    ("a,colour,kind\n1,2,x\n3,red,y\n", [], "column 'colour': 'red' is not a number"),
    (None, [], "does not exist"),
])
def test_bad_tables_are_user_errors(tmp_path, text, argv, fragment):
    path = tmp_path / "t.csv"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["train", "--data", str(path), "--out", str(tmp_path / "r"), *argv])
    assert code == 2 and fragment in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing was started


def test_data_flags_that_do_not_fit(run_dir, tmp_path):
    code, _, err = run_cli(["train", "--target", "y"])
    assert code == 2 and "pass --data too" in err
    code, _, err = run_cli(["train", "--data", "t.csv", "--out", str(run_dir), "--resume"])
    assert code == 2 and "omit it when resuming" in err
    code, _, err = run_cli(["eval", str(run_dir), "--data", "t.csv"])
    assert code == 2 and "--data needs a run trained on a table" in err and "'digits'" in err
    code, _, err = run_cli(["eval", str(run_dir), "--data", "t.csv", "--split", "val"])
    assert code == 2 and "drop --split" in err


# -- rough edges ------------------------------------------------------------------------------

def test_presets_name_prints_that_preset():
    code, out, _ = run_cli(["presets", "digits-tiny"])
    assert code == 0 and out.startswith("name: digits-tiny\n") and "widths:" in out
    assert run_cli(["presets", "--show", "digits-tiny"])[1] == out
    code, _, err = run_cli(["presets", "mnist-xxl"])
    assert code == 2 and "valid presets:" in err


def test_preset_descriptions_claim_no_accuracy():
    from bitlogic.train import list_presets, load_preset

    for name in list_presets():
        description = load_preset(name).description
        assert "%" not in description and "accura" not in description, name


def test_help_texts_have_no_restructuredtext_markup():
    from bitlogic.cli import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    texts += [p.format_help() for p in sub.choices.values()]
    for text in texts:
        for markup in ("``", ":class:", ":func:", ":mod:", ":meth:", "::"):
            assert markup not in text, (markup, text[:200])


def test_output_into_a_closed_pipe_exits_quietly(run_dir):
    proc = subprocess.Popen([sys.executable, "-m", "bitlogic.cli", "info", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141 and err == ""


def _small_netlist(scaling: InputScaling | None, encoded: bool = True) -> LogicNetlist:
    """3 features x 2 thresholds (or 6 input bits) -> 4 rank-2 LUTs -> 2 classes."""
    rng = np.random.default_rng(0)
    encoding = None
    if encoded:
        encoding = InputEncoding(np.sort(rng.random((3, 2)), axis=1).astype(np.float32), scaling)
    layer = NetlistLayer(rng.integers(0, 6, size=(4, 2)).astype(np.int32),
                         (rng.random((4, 4)) < 0.5).astype(np.uint8))
    return LogicNetlist(6, [layer], 2, 1.0, encoding).validate()


@pytest.mark.parametrize("case", ["minmax", "divide", "scaled", "bits"])
def test_info_says_whether_the_netlist_takes_raw_features(tmp_path, case):
    scaling = {"minmax": InputScaling.minmax(np.zeros(3), np.full(3, 0.5)),
               "divide": InputScaling.divide(3, 255.0)}.get(case)
    path = tmp_path / "net.safetensors"
    _small_netlist(scaling, encoded=case != "bits").save(path)
    code, out, _ = run_cli(["info", str(path)])
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("scaling: "))
    assert line == {
        "minmax": "scaling: raw features in (minmax scaling), 3 features, clipped to [0, 1]",
        "divide": "scaling: raw features in (divide by 255 scaling), 3 features",
        "scaled": "scaling: none stored, pass the scaled features the model was trained on",
        "bits": "scaling: none (no encoding), pass the input bits",
    }[case]
    code, out, _ = run_cli(["info", str(path), "--json"])
    info = json.loads(out)
    assert info["raw_features"] is (scaling is not None)
    assert info["scaling"] == (None if scaling is None else
                               {"kind": scaling.kind, "features": 3, "clip": scaling.clip})


def test_info_of_a_netlist_frozen_in_python_says_what_it_knows(tmp_path):
    from torch import nn

    from bitlogic.layers import GroupSum, LogicDense, Thermometer, to_netlist

    torch.manual_seed(0)
    model = nn.Sequential(Thermometer(3), LogicDense(12, 20, lut_rank=4), GroupSum(2)).eval()
    path = tmp_path / "net.safetensors"
    to_netlist(model).save(path)
    code, out, _ = run_cli(["info", str(path)])
    assert code == 0 and "None" not in out
    assert "frozen outside the trainer (no preset or dataset recorded)" in out
    assert "parametrizations LightLUT" in out
