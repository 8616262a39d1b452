"""What training the tiny models needs besides the model: Adam, gradient clipping, one BLAS thread.

Pretraining (``tools/pretrain_tinylm.py``) and fine-tuning (``ftlab.tinylm.training``) both stand on
these, so they live apart from the model itself.
"""

import math

import numpy as np


def one_blas_thread():
    """Context manager running numpy's matrix products on one thread.

    This model's matrices are small (hundreds of rows), and on a busy 2-core machine OpenBLAS's
    worker threads spin-wait for each other: one thread is then several times faster.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # only speed depends on it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def clip_gradients(grads, max_norm):
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping (what training logs call ``grad_norm``).

    >>> g = {"w": np.array([3.0, 4.0])}
    >>> float(clip_gradients(g, 1.0)), g["w"].tolist()
    (5.0, [0.6000000000000001, 0.8])
    """
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm is not None and norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


class Adam:
    """Adam (Kingma & Ba 2015): per-weight step sizes from running gradient moments.

    m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²,  w ← w - lr · m̂ / (√v̂ + ε)
    with the bias corrections m̂ = m / (1-β1^t), v̂ = v / (1-β2^t).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, params, grads, lr=None):
        lr = self.lr if lr is None else lr
        b1, b2 = self.betas
        self.t += 1
        step_size = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for k, p in params.items():
            g = grads[k]
            self.m[k] *= b1
            self.m[k] += (1 - b1) * g
            self.v[k] *= b2
            self.v[k] += (1 - b2) * g * g
            p -= step_size * self.m[k] / (np.sqrt(self.v[k]) + self.eps)
