"""Random image shifts, flips and cutout used by ``train.shift_pixels``, ``train.flip`` and
``train.cutout``."""

from __future__ import annotations

import pytest
import torch

from bitlogic.train import load_preset, train
from bitlogic.train.augment import random_cutout, random_flip, random_shift
from bitlogic.train.config import ConfigError


def _shifted_by_hand(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` (C, H, W) moved down by dy and right by dx, zero-filled."""
    out = torch.zeros_like(image)
    _, h, w = image.shape
    for y in range(h):
        for x in range(w):
            if 0 <= y - dy < h and 0 <= x - dx < w:
                out[:, y, x] = image[:, y - dy, x - dx]
    return out


@pytest.mark.parametrize("shape, max_shift", [((1, 6, 5), 1), ((3, 4, 7), 2), ((2, 3, 3), 3)])
def test_each_image_moves_by_its_own_offset(shape, max_shift):
    batch = 40
    x = torch.rand(batch, shape[0] * shape[1] * shape[2])
    out = random_shift(x, shape, max_shift, torch.Generator().manual_seed(1))
    offsets = torch.randint(-max_shift, max_shift + 1, (2, batch, 1, 1),
                            generator=torch.Generator().manual_seed(1))
    images = x.view(batch, *shape)
    for b in range(batch):
        dy, dx = int(offsets[0, b]), int(offsets[1, b])
        assert torch.equal(out[b].view(shape), _shifted_by_hand(images[b], dy, dx)), (b, dy, dx)
    assert len({(int(a), int(c)) for a, c in offsets.view(2, -1).T}) > 1


def test_zero_shift_copies():
    x = torch.rand(3, 12)
    out = random_shift(x, (1, 3, 4), 0)
    assert torch.equal(out, x) and out.data_ptr() != x.data_ptr()


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"images shaped \(C, H, W\)"):
        random_shift(torch.rand(2, 64), (64,), 1)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 12\)"):
        random_shift(torch.rand(2, 13), (1, 3, 4), 1)
    with pytest.raises(ValueError, match="max_shift must be >= 0"):
        random_shift(torch.rand(2, 12), (1, 3, 4), -1)


def test_config_rejects_negative_shift_and_non_image_datasets(tmp_path):
    with pytest.raises(ConfigError, match="train.shift_pixels must be >= 0"):
        load_preset("digits-tiny", ["train.shift_pixels=-2"])
    with pytest.raises(ConfigError, match="train.shift_pixels needs an image dataset"):
        load_preset("digits-tiny", ["train.shift_pixels=1"])
    config = load_preset("digits-tiny")
    config.train.shift_pixels = 1  # past the config check: the trainer checks the data
    with pytest.raises(ConfigError, match="train.shift_pixels needs an image dataset"):
        train(config, tmp_path / "run", verbose=False)


@pytest.mark.parametrize("shape", [(1, 5, 4), (3, 4, 7)])
def test_each_image_is_mirrored_or_kept_by_its_own_draw(shape):
    batch = 64
    x = torch.rand(batch, shape[0] * shape[1] * shape[2])
    out = random_flip(x, shape, torch.Generator().manual_seed(3))
    flipped = torch.rand(batch, generator=torch.Generator().manual_seed(3)) < 0.5
    images, result = x.view(batch, *shape), out.view(batch, *shape)
    for i in range(batch):
        expected = images[i].flip(2) if flipped[i] else images[i]
        assert torch.equal(result[i], expected), f"sample {i}, seed 3"
    assert 0 < int(flipped.sum()) < batch  # both outcomes occur
    assert out.shape == x.shape and out.data_ptr() != x.data_ptr()


def test_flip_rejects_tables_and_mismatched_shapes():
    with pytest.raises(ValueError, match=r"random flips need images shaped \(C, H, W\)"):
        random_flip(torch.rand(2, 30), (30,))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 12\)"):
        random_flip(torch.rand(2, 13), (1, 3, 4))


def _cut_by_hand(image: torch.Tensor, top: int, left: int, size: int) -> torch.Tensor:
    """``image`` (C, H, W) with rows top..top+size-1 and columns left..left+size-1 zeroed."""
    out = image.clone()
    _, h, w = image.shape
    for y in range(max(top, 0), min(top + size, h)):
        for x in range(max(left, 0), min(left + size, w)):
            out[:, y, x] = 0.0
    return out


@pytest.mark.parametrize("shape, size", [((1, 6, 5), 2), ((3, 8, 7), 3), ((2, 4, 4), 3)])
def test_cutout_zeroes_a_square_around_each_images_own_centre(shape, size):
    batch = 48
    x = torch.rand(batch, shape[0] * shape[1] * shape[2]) + 0.5  # no zero pixels before
    out = random_cutout(x, shape, size, torch.Generator().manual_seed(5))
    draws = torch.Generator().manual_seed(5)
    rows = torch.randint(0, shape[1], (batch,), generator=draws)
    cols = torch.randint(0, shape[2], (batch,), generator=draws)
    images = x.view(batch, *shape)
    for b in range(batch):
        top, left = int(rows[b]) - size // 2, int(cols[b]) - size // 2
        expected = _cut_by_hand(images[b], top, left, size)
        assert torch.equal(out[b].view(shape), expected), f"sample {b}, seed 5"
    zeroed = (out.view(batch, *shape)[:, 0] == 0).sum((1, 2))
    assert int(zeroed.max()) == size * size and int(zeroed.min()) < size * size  # borders clip
    assert out.shape == x.shape and out.data_ptr() != x.data_ptr()


def test_cutout_of_zero_copies_and_bad_arguments_raise():
    x = torch.rand(3, 12)
    out = random_cutout(x, (1, 3, 4), 0)
    assert torch.equal(out, x) and out.data_ptr() != x.data_ptr()
    with pytest.raises(ValueError, match=r"cutout need images shaped \(C, H, W\)"):
        random_cutout(torch.rand(2, 30), (30,), 2)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 12\)"):
        random_cutout(torch.rand(2, 13), (1, 3, 4), 1)
    with pytest.raises(ValueError, match="size must be >= 0"):
        random_cutout(torch.rand(2, 12), (1, 3, 4), -1)


def test_config_rejects_cutout_that_is_negative_too_wide_or_not_on_images(tmp_path):
    with pytest.raises(ConfigError, match="train.cutout must be >= 0, got -1"):
        load_preset("mnist-conv", ["train.cutout=-1"])
    with pytest.raises(ConfigError, match=r"train.cutout must be smaller than the image side "
                                          r"\(28 pixels for shape \(1, 28, 28\)\), got 28"):
        load_preset("mnist-conv", ["train.cutout=28"])
    assert load_preset("mnist-conv", ["train.cutout=27"]).train.cutout == 27
    with pytest.raises(ConfigError, match="train.cutout needs an image dataset"):
        load_preset("digits-tiny", ["train.cutout=2"])
    config = load_preset("digits-tiny")
    config.train.cutout = 2  # past the config check: the trainer checks the data
    with pytest.raises(ConfigError, match="train.cutout needs an image dataset"):
        train(config, tmp_path / "run", verbose=False)
