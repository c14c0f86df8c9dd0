"""``gesticulate evaluate`` and ``gesticulate train-fgd`` (issue 5): the papers' tables, no
downloaded weights.

* :func:`~gesticulate.evaluate.run.evaluate` — generate for every clip of a split, score
  ground truth, generators and baselines with :mod:`gesticulate.metrics`, write
  ``metrics.json``, ``metrics.md`` and ``report.html``.
* :func:`~gesticulate.evaluate.encoder.train_fgd` — train the FGD motion autoencoder.
"""

from gesticulate.evaluate.encoder import train_fgd
from gesticulate.evaluate.run import evaluate

__all__ = ["evaluate", "train_fgd"]
