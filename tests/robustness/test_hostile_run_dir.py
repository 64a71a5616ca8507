"""A run directory under attack: corrupt files, a stranger's folder, two writers, resumes.

Findings covered: 2 (``--out`` into a non-run folder overwrote the user's
files), 3 (no lock: two writers mixed one run), 4 (corrupt files gave raw
tracebacks; no fallback from a torn ``best``), 8 (NaN weights and version-99
checkpoints were accepted), 9 (a missing test split was found only after
training), 10 (``--resume`` with another seed rewrote ``config.yaml``), and
7's trainer half (``encoder.kind=none`` on real-valued data).
"""

from __future__ import annotations

import json
import shutil
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from hostile import CORRUPTIONS, clear_error, documented_warning
from safetensors.torch import load_file, save_file

from bitlogic import cli
from bitlogic.train import load_checkpoint, load_preset, load_run, train
from bitlogic.train.config import ConfigError

SMALL = ["model.widths=[60,60]", "train.num_threads=1", "train.max_steps_per_epoch=3",
         "train.epochs=1"]
ARGS = [arg for text in SMALL for arg in ("--set", text)]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    train(load_preset("digits-tiny", SMALL), run, verbose=False)
    return run


@pytest.fixture
def run(trained_run, tmp_path) -> Path:
    """A private copy of the trained run, free to corrupt."""
    return Path(shutil.copytree(trained_run, tmp_path / "run"))


def bitlogic(*argv: str, capsys) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.startswith("bitlogic: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


# -- corrupt files in a run, through the commands -------------------------------------


@pytest.mark.parametrize("corruption", list(CORRUPTIONS), ids=lambda c: f"warn-torn-best-{c}")
def test_a_torn_best_falls_back_to_the_checkpoint(run, corruption, capsys):
    CORRUPTIONS[corruption](run / "best.safetensors")
    with documented_warning(r"best\.safetensors.*using checkpoint\.safetensors instead"):
        model = load_run(run)
    with documented_warning(r"using checkpoint\.safetensors instead"):
        code, out, err = bitlogic("eval", str(run), "--json", capsys=capsys)
    assert code == 0, err
    assert 0.0 <= json.loads(out)["accuracy"] <= 1.0
    state = load_checkpoint(run / "checkpoint.safetensors").model_state
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("command", ["eval", "info", "export"])
@pytest.mark.parametrize("corruption", ["truncated-half", "pickle-renamed"])
@pytest.mark.outcome("error")
def test_error_when_every_checkpoint_is_torn(run, command, corruption, capsys, tmp_path):
    for name in ("best.safetensors", "checkpoint.safetensors", "netlist.safetensors"):
        CORRUPTIONS[corruption](run / name)
    extra = ["--format", "c", "--out", str(tmp_path / "c")] if command == "export" else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the fallbacks warn on their way
        code, _, err = bitlogic(command, str(run), *extra, capsys=capsys)
    assert_user_error(code, err, ".safetensors")



@pytest.mark.parametrize("corruption", ["truncated-half", "random-bytes"],
                         ids=lambda c: f"warn-torn-netlist-info-{c}")
def test_a_torn_netlist_in_a_run_is_frozen_again(run, corruption, capsys):
    CORRUPTIONS[corruption](run / "netlist.safetensors")
    with documented_warning(r"netlist\.safetensors.*freezing the run's checkpoint"):
        code, out, err = bitlogic("info", str(run), "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["gates"] == 120


@pytest.mark.parametrize("corruption", list(CORRUPTIONS), ids=lambda c: f"error-eval-netlist-{c}")
def test_eval_of_a_torn_netlist_file_names_it(run, corruption, capsys):
    CORRUPTIONS[corruption](run / "netlist.safetensors")
    code, _, err = bitlogic("eval", str(run / "netlist.safetensors"), capsys=capsys)
    assert_user_error(code, err, "netlist.safetensors")


CONFIGS = {
    "not-yaml": "train: [unclosed\n",
    "a-list": "- 1\n- 2\n",
    "unknown-key": "train:\n  epochz: 3\n",
    "wrong-type": "train:\n  epochs: many\n",
    "binary": "\x00\xff\xfe",
}


@pytest.mark.parametrize("case", list(CONFIGS), ids=lambda c: f"error-config-{c}")
def test_a_corrupt_config_yaml_is_named(run, case, capsys):
    (run / "config.yaml").write_text(CONFIGS[case], encoding="latin-1")
    code, _, err = bitlogic("eval", str(run), "--split", "val", capsys=capsys)
    assert_user_error(code, err, "config.yaml" if case in ("not-yaml", "a-list", "binary")
                      else "train.")


@pytest.mark.parametrize("corruption", ["truncated-half", "random-bytes", "text"],
                         ids=lambda c: f"ok-resume-with-torn-metrics-{c}")
def test_resume_rewrites_torn_metrics_from_the_checkpoint(run, corruption, capsys):
    CORRUPTIONS[corruption](run / "metrics.csv")
    code, _, err = bitlogic("train", "--out", str(run), "--resume", "--epochs", "2", "--quiet",
                            capsys=capsys)
    assert code == 0, err
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 3


@pytest.mark.parametrize("corruption", ["truncated-half", "pickle-renamed", "empty"],
                         ids=lambda c: f"error-resume-torn-checkpoint-{c}")
def test_resume_from_a_torn_checkpoint_is_a_clear_error(run, corruption, capsys):
    CORRUPTIONS[corruption](run / "checkpoint.safetensors")
    code, _, err = bitlogic("train", "--out", str(run), "--resume", "--quiet", capsys=capsys)
    assert_user_error(code, err, "checkpoint.safetensors")


# -- bad checkpoints (finding 8) --------------------------------------------------------


def _rewrite_checkpoint(path: Path, tensor_edit=None, meta_edit=None) -> None:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        metadata = dict(f.metadata())
    tensors = load_file(str(path))
    if tensor_edit:
        tensor_edit(tensors)
    if meta_edit:
        meta = json.loads(metadata["bitlogic-train"])
        meta_edit(meta)
        metadata["bitlogic-train"] = json.dumps(meta)
    save_file(tensors, str(path), metadata=metadata)


def _nan_weight(tensors):
    key = next(k for k in tensors if k.startswith("model/") and k.endswith("weight"))
    tensors[key][0] = float("nan")


BAD_CHECKPOINTS = {
    "nan-weight": (dict(tensor_edit=_nan_weight), "NaN or infinite"),
    "inf-weight": (dict(tensor_edit=lambda t: t[next(k for k in t if "weight" in k)].fill_(
        float("inf"))), "NaN or infinite"),
    "version-99": (dict(meta_edit=lambda m: m.__setitem__("version", 99)), "version 99"),
    "version-string": (dict(meta_edit=lambda m: m.__setitem__("version", "2")), "'version'"),
    "no-config": (dict(meta_edit=lambda m: m.pop("config")), "config"),
    "wrong-shape": (dict(tensor_edit=lambda t: t.__setitem__(
        next(k for k in t if k.startswith("model/")), torch.zeros(3, 3))), "does not hold"),
    "missing-tensor": (dict(tensor_edit=lambda t: t.pop(
        next(k for k in t if k.startswith("model/")))), "does not hold"),
    "no-num_classes": (dict(meta_edit=lambda m: m.pop("num_classes")), "num_classes"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS), ids=lambda c: f"error-checkpoint-{c}")
def test_a_bad_checkpoint_is_refused(run, case, capsys, tmp_path):
    edits, message = BAD_CHECKPOINTS[case]
    path = run / "checkpoint.safetensors"
    _rewrite_checkpoint(path, **edits)
    code, _, err = bitlogic("export", str(path), "--format", "netlist",
                            "--out", str(tmp_path / "x"), capsys=capsys)
    assert_user_error(code, err, "checkpoint.safetensors", message)


@pytest.mark.outcome("error")
def test_version_and_nan_checks_hold_in_load_checkpoint(run):
    path = run / "best.safetensors"
    _rewrite_checkpoint(path, meta_edit=lambda m: m.__setitem__("version", 99))
    clear_error(lambda: load_checkpoint(path), ValueError, "version 99", "upgrade bitlogic")
    _rewrite_checkpoint(path, meta_edit=lambda m: m.__setitem__("version", 1),
                        tensor_edit=_nan_weight)
    clear_error(lambda: load_checkpoint(path), ValueError, "best.safetensors", "NaN")



# -- a stranger's directory, two writers, resumes ---------------------------------------


@pytest.mark.outcome("error")
def test_train_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    mine = {"config.yaml": "my: own config\n", "metrics.csv": "a,b\n1,2\n", "loss.png": "png"}
    for name, text in mine.items():
        (out / name).write_text(text)
    code, _, err = bitlogic("train", "--out", str(out), *ARGS, "--quiet", capsys=capsys)
    assert_user_error(code, err, "not a bitlogic run", "--force", "config.yaml")
    assert {p.name: p.read_text() for p in out.iterdir()} == mine  # nothing touched



@pytest.mark.outcome("ok")
def test_force_writes_into_a_foreign_folder(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, _, err = bitlogic("train", "--out", str(out), *ARGS, "--quiet", "--force",
                            capsys=capsys)
    assert code == 0, err
    assert (out / "netlist.safetensors").is_file() and (out / "notes.txt").read_text() == "keep me"



@pytest.mark.outcome("error")
def test_a_second_writer_fails_at_once(tmp_path, capsys):
    from bitlogic.train.rundir import LOCK_FILE, RunDirError, claim_run_dir

    out = tmp_path / "busy"
    with claim_run_dir(out):
        code, _, err = bitlogic("train", "--out", str(out), *ARGS, "--quiet", capsys=capsys)
        assert_user_error(code, err, "being written by another bitlogic process", "pid")
        clear_error(lambda: claim_run_dir(out), RunDirError, "another bitlogic process")
        assert not (out / "config.yaml").exists()
    with claim_run_dir(out):  # released: the next writer gets it
        pass
    assert (out / LOCK_FILE).is_file()



@pytest.mark.outcome("ok")
def test_resume_keeps_the_original_config_and_records_the_change(run, capsys):
    from bitlogic.train.rundir import RESUMES_FILE

    original = (run / "config.yaml").read_text()
    code, _, err = bitlogic("train", "--out", str(run), "--resume", "--epochs", "2",
                            "--seed", "7", "--set", "optimizer.lr=0.5", "--quiet",
                            capsys=capsys)
    assert code == 0, err
    assert (run / "config.yaml").read_text() == original
    record = json.loads((run / RESUMES_FILE).read_text().splitlines()[-1])
    assert record["epoch"] == 1
    assert record["changed"]["train.seed"] == [0, 7] or record["changed"]["train.seed"][1] == 7
    assert record["changed"]["optimizer.lr"][1] == 0.5
    assert record["changed"]["train.epochs"] == [1, 2]
    # A second resume continues from the last session's config, not the first one's.
    code, _, err = bitlogic("train", "--out", str(run), "--resume", "--epochs", "3", "--quiet",
                            capsys=capsys)
    assert code == 0, err
    last = json.loads((run / RESUMES_FILE).read_text().splitlines()[-1])["changed"]
    assert last == {"train.epochs": [2, 3]}
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["epochs"] == 1



def _write_idx(path: Path, array: np.ndarray) -> None:
    code = {np.dtype(np.uint8): 0x08}[array.dtype]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


@pytest.mark.outcome("error")
def test_a_missing_test_split_fails_before_the_first_step(tmp_path, capsys):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    _write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (60, 28, 28), np.uint8))
    _write_idx(folder / "train-labels-idx1-ubyte", (np.arange(60) % 10).astype(np.uint8))
    out = tmp_path / "run"
    code, _, err = bitlogic("train", "--preset", "digits-tiny", "--out", str(out),
                            "--data-dir", str(tmp_path / "data"), *ARGS,
                            "--set", "dataset.name=mnist", "train.batch_size=16", "--quiet",
                            capsys=capsys)
    assert_user_error(code, err, "t10k-images-idx3-ubyte")
    assert not (out / "checkpoint.safetensors").exists()  # no step was taken



@pytest.mark.outcome("error")
def test_an_encoder_that_cannot_make_bits_is_refused(tmp_path):
    config = load_preset("digits-tiny", [*SMALL, "encoder.kind=none"])
    clear_error(lambda: train(config, tmp_path / "run", verbose=False), ConfigError,
                "encoder.kind='none' needs binary", "thermometer")
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()

