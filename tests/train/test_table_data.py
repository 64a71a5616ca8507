"""A run's table dataset as the config records it: fields, idempotence, reloading."""

from __future__ import annotations

import numpy as np
import pytest

from bitlogic.train import RunConfig, load_preset
from bitlogic.train.config import ConfigError
from bitlogic.train.table_data import load_run_dataset, record_table, table_source

SEED = 11


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(SEED)
    rows = [f"{rng.normal():.4f},{rng.uniform() * 50:.4f},{'ab'[i % 2]}" for i in range(24)]
    path = tmp_path / "two.csv"
    path.write_text("u,v,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_record_table_fills_the_source_once(table):
    config = load_preset("tabular", [f"dataset.path={table}"])
    recorded = record_table(config)
    d = recorded.dataset
    assert d.name == "two" and d.target == "kind" and d.class_names == ["a", "b"]
    assert d.feature_names == ["u", "v"] and len(d.sha256) == 64
    assert all(lo <= hi for lo, hi in zip(d.feature_min, d.feature_max, strict=True))
    assert record_table(recorded) is recorded  # already recorded: unchanged
    # The recorded config survives its YAML round trip (what config.yaml holds).
    again = RunConfig.from_dict(recorded.to_dict())
    assert table_source(again) == table_source(recorded)


def test_a_registered_dataset_is_left_alone():
    config = load_preset("digits-tiny")
    assert record_table(config) is config
    with pytest.raises(ValueError, match="records no table source"):
        table_source(config)


def test_load_run_dataset_reads_the_table_splits(table):
    config = record_table(load_preset("tabular", [f"dataset.path={table}"]))
    train, test = load_run_dataset(config, "train"), load_run_dataset(config, "test")
    assert len(train) == 18 and len(test) == 6, f"seed {SEED}"
    assert train.num_classes == 2 and train.x.min() == 0.0 and train.x.max() == 1.0


def test_the_config_checks_the_path_and_not_the_dataset_name():
    with pytest.raises(ConfigError, match=r"dataset.path must be a .csv or .npz file"):
        load_preset("tabular", ["dataset.path=table.xlsx"])
    config = load_preset("tabular", ["dataset.path=t.csv", "dataset.name=t"])
    assert config.dataset.name == "t"  # a label only, not a registry name
    with pytest.raises(ConfigError, match="dataset.name must be one of"):
        load_preset("tabular", ["dataset.name=t"])
