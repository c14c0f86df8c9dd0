"""Training MotionDiT and the renderer: one loop, windows of a clip dataset, the objective,
checkpoints, DDP."""

from gesticulate.train.motion import TrainConfig, train

__all__ = ["TrainConfig", "train"]
