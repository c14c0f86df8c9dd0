"""Training MotionDiT: windows of a clip dataset, the objective, the loop, checkpoints, DDP."""

from gesticulate.train.loop import TrainConfig, train

__all__ = ["TrainConfig", "train"]
