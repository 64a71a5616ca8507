"""End to end: a small LogicDense network learns scikit-learn's digits."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from bitlogic.layers import GroupSum, LogicDense, Thermometer, to_netlist
from bitlogic.netlist import evaluate_netlist


def test_digits_reaches_85_percent_discrete_accuracy():
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=0.25, random_state=0,
                                              stratify=y)
    x_tr, x_te = (torch.tensor(a, dtype=torch.float32) for a in (x_tr, x_te))
    y_tr, y_te = torch.tensor(y_tr), torch.tensor(y_te)
    model = nn.Sequential(
        Thermometer(3),
        LogicDense(192, 500, "light", 4),
        LogicDense(500, 500, "light", 4),
        GroupSum(10, tau=10.0),
    )
    opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.0)
    for _ in range(12):
        model.train()
        perm = torch.randperm(len(x_tr))
        for i in range(0, len(x_tr), 64):
            idx = perm[i : i + 64]
            loss = nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        scores = model(x_te)
    accuracy = (scores.argmax(1) == y_te).float().mean().item()
    assert accuracy >= 0.85, accuracy
    # the frozen netlist reproduces the eager discrete model exactly
    net_scores, _ = evaluate_netlist(to_netlist(model), x_te.numpy())
    assert torch.equal(torch.from_numpy(net_scores), scores)
