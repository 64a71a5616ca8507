"""The run plots: curves, the best-epoch marker and the early-stop marker."""

from __future__ import annotations

from bitlogic.train.plots import ACCURACY_PNG, LOSS_PNG, best_epoch, draw_curves, write_plots


def rows(best: list[bool]) -> list[dict]:
    return [{"epoch": i + 1, "train_loss": 1.0 / (i + 1), "val_loss": 1.2 / (i + 1),
             "val_discrete_acc": 0.5 + 0.01 * i, "best": flag} for i, flag in enumerate(best)]


def test_best_epoch_is_the_last_flagged_row():
    assert best_epoch(rows([True, True, False, True, False])) == 4
    assert best_epoch(rows([False, False])) is None
    # Rows read back from metrics.csv carry the flag as text.
    assert best_epoch([{"epoch": 1, "best": "True"}, {"epoch": 2, "best": "False"}]) == 1


def test_the_plot_marks_the_best_epoch_and_the_early_stop():
    fig = draw_curves(rows([True, True, False, False]), [("val_loss", "validation")], "loss",
                      "Loss", stopped_at=4)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["validation", "best epoch 2", "early stop (epoch 4)"]
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["best epoch 2"].get_xdata()) == [2, 2]
    plain = draw_curves(rows([True, False]), [("val_loss", "validation")], "loss", "Loss")
    assert plain.axes[0].get_legend_handles_labels()[1] == ["validation", "best epoch 1"]


def test_write_plots_writes_both_pngs(tmp_path):
    paths = write_plots(rows([True, False, True]), tmp_path, stopped_early=True)
    assert [p.name for p in paths] == [LOSS_PNG, ACCURACY_PNG]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
