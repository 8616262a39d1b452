"""What the tiny-model benchmarks share: the fastest of several calls, and a training step timed
against numpy doing only that step's matrix products."""

import time

from ftlab.tinylm.optim import Adam, clip_gradients, one_blas_thread


def best_time(fn, repeats=10):
    """Fastest of several calls: on a shared machine the least-disturbed measurement."""
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def step_and_baseline(model, inputs, targets, baseline, *, lr, repeats=10):
    """(fastest ``baseline()`` call, fastest training step) in seconds, on one BLAS thread.

    The step (loss and hand-written gradients, clipping, Adam) trains a copy of ``model`` on one
    batch. The two are measured in turns, five times, so load from other processes hits both.
    """
    work = model.copy()
    opt = Adam(work.params, lr=lr)

    def train_step():
        _, grads, _ = work.loss_and_grads(inputs, targets)
        clip_gradients(grads, 1.0)
        opt.step(work.params, grads)

    with one_blas_thread():
        baseline_times, step_times = [], []
        for _ in range(5):
            baseline_times.append(best_time(baseline, repeats))
            step_times.append(best_time(train_step, repeats))
    return min(baseline_times), min(step_times)
