"""The shared training loop's pieces: the learning-rate schedule and the EMA warm-up."""

from __future__ import annotations

import pytest
import torch

from gesticulate.errors import OptionError
from gesticulate.train.loop import LoopConfig, ema_of, lr_schedule


def _lrs(sched, opt, n: int) -> list[float]:
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


def test_lr_warms_up_decays_to_a_tenth_and_resumes_mid_way():
    cfg = LoopConfig(lr=0.5, warmup_steps=4, steps=20)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=cfg.lr)
    lrs = _lrs(lr_schedule(opt, cfg, start=0), opt, 21)
    assert lrs[:5] == pytest.approx([0.125, 0.25, 0.375, 0.5, 0.5])
    assert all(a > b for a, b in zip(lrs[4:20], lrs[5:21])) and lrs[20] == pytest.approx(0.05)
    fresh = torch.optim.SGD([p], lr=123.0)  # a restored optimizer: its lr is overwritten
    assert _lrs(lr_schedule(fresh, cfg, start=7), fresh, 3) == pytest.approx(lrs[7:10])


def test_ema_averages_from_the_first_step_with_a_warm_up():
    model = torch.nn.Linear(3, 2)
    start = model.weight.detach().clone()
    ema = ema_of(model, decay=0.999)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update_parameters(model)                  # step 0: decay min(0.999, 1/10)
    torch.testing.assert_close(ema.module.weight, 0.1 * start + 0.9 * model.weight)
    ema.n_averaged.fill_(10_001)                  # step 10000: (1+s)/(10+s) > 0.999, the cap
    before = ema.module.weight.clone()
    ema.update_parameters(model)
    torch.testing.assert_close(ema.module.weight, 0.999 * before + 0.001 * model.weight)
    assert not any(p.requires_grad for p in ema.parameters())


def test_unknown_options_name_the_training():
    with pytest.raises(OptionError, match="unknown training options"):
        LoopConfig.from_dict({"learning_rate": 1.0})
