"""End of training: reload the best model, test it, export its netlist, summarise the run.

Only a rank with a run directory (rank 0) evaluates the test split, exports the
netlist and writes the summary and the final plots; every rank gets the summary
of the loop state.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .bookkeeping import LoopState
from .checkpoint import load_checkpoint
from .config import RunConfig
from .epoch import set_step_temperatures
from .evaluate import evaluate
from .harden import harden_for_epoch
from .metrics import MetricsLog
from .model import count_neurons, count_parameters
from .plots import write_plots
from .runs import BEST_FILE, NETLIST_FILE, export_netlist
from .views import run_views

if TYPE_CHECKING:
    from bitlogic.schedules import TemperatureSchedule


def finish_run(model: nn.Module, config: RunConfig, state: LoopState, log: MetricsLog, *,
               out: Path | None, test_split: tuple[torch.Tensor, torch.Tensor] | None,
               device: torch.device, world_size: int, temperature: TemperatureSchedule,
               steps_per_epoch: int) -> tuple[nn.Module, dict[str, Any]]:
    """The best model (on the CPU, in eval mode; ``model`` itself) and the run's summary.

    The best model is ``out/best.safetensors`` when it loads; a file torn by hand
    warns and keeps the latest model. It is put back in the state its best epoch
    was validated in: the layers hardened by then, and the temperatures of that
    epoch's last step (``temperature`` and the hardening ramps), which the soft
    figures depend on. With ``out``, the summary gains the test accuracies and
    the gate count and goes into ``metrics.json``.
    """
    if out is not None and (out / BEST_FILE).is_file():
        try:
            best_state = load_checkpoint(out / BEST_FILE).model_state
            model.load_state_dict({k: v.to(device) for k, v in best_state.items()})
        except (ValueError, RuntimeError) as err:  # torn by hand: keep the latest model
            warnings.warn(f"bitlogic: {err}; exporting the latest model instead",
                          RuntimeWarning, stacklevel=2)
    if state.best_epoch:  # soft figures as the best epoch was validated
        harden_for_epoch(model, config.train.harden_epochs, state.best_epoch - 1)
        end, steps = _epoch_steps(log.rows, state.best_epoch, steps_per_epoch)
        set_step_temperatures(model, config, temperature, end - 1,
                              state.best_epoch - 1 + (steps - 1) / steps)
    cpu_model = model.cpu().eval()
    summary: dict[str, Any] = {
        "preset": config.name, "dataset": config.dataset.name,
        "epochs_run": state.epoch, "steps": state.step, "best_epoch": state.best_epoch,
        "stopped_early": state.stopped_early, "world_size": world_size,
        "parameters": count_parameters(cpu_model),
        "neurons": count_neurons(model),
        "train_wall_s": log.rows[-1].get("wall_s") if log.rows else 0.0,
    }
    best = next((r for r in log.rows if r["epoch"] == state.best_epoch), None)
    if best is not None:
        summary.update(best_val_discrete_acc=best["val_discrete_acc"],
                       best_val_soft_acc=best["val_soft_acc"])
    if out is not None:
        x, y = test_split
        bs = config.train.eval_batch_size
        views = run_views(config, cpu_model)
        soft = evaluate(cpu_model, x, y, soft=True, batch_size=bs, views=views)
        hard = evaluate(cpu_model, x, y, soft=False, batch_size=bs, views=views)
        netlist = export_netlist(cpu_model, config, out / NETLIST_FILE)
        summary.update(test_soft_acc=soft.accuracy, test_discrete_acc=hard.accuracy,
                       test_gap=soft.accuracy - hard.accuracy, test_n=hard.n,
                       gates=netlist.num_gates)
        log.update_summary(**summary)
        write_plots(log.rows, out, stopped_early=state.stopped_early)
        # No end-of-training line here: the summary is returned, and the CLI prints it once.
    return cpu_model, summary


def _epoch_steps(rows: list[dict[str, Any]], epoch: int, steps_per_epoch: int) -> tuple[int, int]:
    """The global step at the end of (1-based) ``epoch`` and the steps it took.

    Read from the metrics rows, which hold each epoch's own count even when a
    resume changed ``train.max_steps_per_epoch``; ``steps_per_epoch`` for rows
    that are missing.
    """
    step_at = {r["epoch"]: r["step"] for r in rows}
    end = step_at.get(epoch, epoch * steps_per_epoch)
    start = 0 if epoch == 1 else step_at.get(epoch - 1, end - steps_per_epoch)
    return end, max(end - start, 1)
