"""The noise schedules of our diffusion models, from ``diffusers.schedulers``.

Shared by training (:mod:`gesticulate.train`) and sampling (:mod:`gesticulate.motion.diffusion`,
:mod:`gesticulate.render.diffusion`): a model's config names its schedule
(``num_train_timesteps``, ``beta_schedule``, ``prediction_type``), and the scheduler made here
owns ``add_noise`` for training and ``set_timesteps`` / ``step`` for sampling (diffusers' split).
"""

from __future__ import annotations

from gesticulate.errors import OptionError

SAMPLERS = ("dpm", "ddim")


def make_noise_scheduler(config, *, device=None):
    """The DDPM training schedule of a model ``config`` (MotionDiT or renderer), its
    ``alphas_cumprod`` on ``device`` (where ``add_noise`` reads them)."""
    from diffusers import DDPMScheduler

    sched = DDPMScheduler(num_train_timesteps=config.num_train_timesteps, beta_schedule=config.beta_schedule,
                          prediction_type=config.prediction_type, clip_sample=False)
    if device is not None:
        sched.alphas_cumprod = sched.alphas_cumprod.to(device)
    return sched


def make_scheduler(kind: str, config, *, num_steps: int):
    """A fresh sampling scheduler of ``kind`` (one of :data:`SAMPLERS`) matching ``config``'s
    training schedule, set to ``num_steps`` steps."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    common = dict(num_train_timesteps=config.num_train_timesteps, beta_schedule=config.beta_schedule,
                  prediction_type=config.prediction_type, timestep_spacing="trailing")
    if kind == "ddim":
        sched = DDIMScheduler(clip_sample=False, set_alpha_to_one=False, **common)
    elif kind == "dpm":
        sched = DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2, **common)
    else:
        raise OptionError(f"unknown sampler {kind!r}; use one of {', '.join(SAMPLERS)}")
    sched.set_timesteps(num_steps)
    return sched
