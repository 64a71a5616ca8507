"""Per-class accuracy of a pass: the pure helper and the model pass that uses it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bitlogic.train.evaluate import class_accuracy, evaluate


def test_class_accuracy_is_the_recall_of_each_class_and_none_for_an_absent_one():
    y = np.array([0, 0, 0, 1, 1, 3])
    pred = np.array([0, 1, 0, 1, 1, 0])
    assert class_accuracy(pred, y, 4) == (2 / 3, 1.0, None, 0.0)


def test_evaluate_reports_per_class_accuracy_across_batches():
    # A fixed linear scorer: class = argmax of the two features, so the predictions are known.
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    y = torch.tensor([0, 0, 1, 1, 1])
    result = evaluate(model, x, y, soft=False, batch_size=2)  # 3 batches, one short
    assert result.class_accuracy == (0.5, 2 / 3)
    assert result.accuracy == 3 / 5 and result.n == 5
