"""Exercises of notebook 03, loss curves."""

import math

from ftlab.course.exercise import add


def _patent():
    from ftlab.runs.samples import load_sample

    return load_sample("patent-insights")


def _smooth_last(values, weight, debias=True):
    if debias:
        from ftlab.curves.smoothing import smooth

        return float(smooth(values, weight)[-1])
    last = 0.0
    for v in values:
        last = last * weight + (1 - weight) * v
    return last


def _reading_of_patent():
    """The option that matches what diagnose finds in patent-insights."""
    from ftlab.curves.diagnosis import diagnose

    d = diagnose(_patent())
    if d.verdict == "overfitting":
        return "b" if d.best_before_repeat else "a"
    return "d" if d.verdict == "underfitting" else "c"


add(
    "03-reading",
    question=("Look at the left panel (patent-insights) next to the right one (a run that "
              "memorises). Which reading of patent-insights do its curves support?"),
    choices={
        "a": ("The model memorised its training examples: it saw them again and again",
              "Memorising needs repeats. patent-insights' validation loss is lowest at step 100 "
              "and already higher at steps 200-500, all inside epoch 1, where no training example "
              "has been seen twice (unless the file itself repeats one). In the right panel the turn comes only after the examples "
              "repeat; in the left one it comes before."),
        "b": ("Validation got worse before any training example repeated, so not by memorising; "
              "a noisy validation batch, drift towards the training file's style or too-large "
              "updates remain possible", ""),
        "c": ("Nothing happened: the rise is only the noise of small validation batches",
              "The batches are noisy, but the rise is larger than that noise: validation's last "
              "level (a mean of 4 evaluations) is well above its first, by more than the jumps "
              "between single evaluations explain (ftlab.diagnose prints both numbers)."),
        "d": ("Underfitting: the model has not learnt enough yet and needs more epochs",
              "Underfitting means the training loss barely falls. Here it falls from epoch to "
              "epoch (run.epochs() shows it) while validation rises: more epochs would fit the "
              "training file even better, which is not what validation lacks."),
    },
    solution=_reading_of_patent,
    hint=("Find the step where validation is lowest and the epoch it falls in (run.epochs() "
          "shows where epoch 1 ends). Had the model seen any training example twice by then?"),
    worked="""
run = ftlab.load_sample("patent-insights")
valid = run.metrics["valid_loss"].dropna()
epochs = run.epochs()
best_step = valid.idxmin()
epoch_1_ends = epochs.loc[1, "last_step"]
print(f"validation lowest at step {best_step}; epoch 1 ends at step {epoch_1_ends}")
print("training loss per epoch:", epochs["train_loss"].round(3).tolist())
first4, last4 = valid.iloc[:4].mean(), valid.iloc[-4:].mean()
jump = valid.diff().abs().median()            # how much one evaluation differs from the next
print(f"validation: mean of the first 4 evaluations {first4:.3f}, of the last 4 {last4:.3f}, "
      f"typical jump between two evaluations {jump:.3f}")
training_fell = epochs["train_loss"].iloc[-1] < epochs["train_loss"].iloc[0]
validation_rose = last4 - first4 > jump
if training_fell and validation_rose:
    answer = "b" if best_step <= epoch_1_ends else "a"   # memorising needs repeated examples
else:
    answer = "c" if training_fell else "d"
""",
    why=("Right. The turn comes in epoch 1, before any example repeats (unless the training file "
         "holds duplicates, which the recording cannot show), so memorising repeated examples "
         "cannot be its cause. The curves alone cannot tell the remaining explanations apart: the full "
         "validation loss of each checkpoint, a look at both files, or a rerun with a lower "
         "learning-rate multiplier could."),
)

add(
    "03-smooth",
    question=("TensorBoard-smooth the losses [2.0, 1.0] with weight 0.5: what is the second "
              "smoothed value (to 3 decimals)?"),
    solution=lambda: _smooth_last([2.0, 1.0], 0.5),
    decimals=3,
    hint=("Run the moving average from last = 0: last = w·last + (1 − w)·y for each point, then "
          "divide the second one by 1 − w², the weight the average has collected so far."),
    worked="""
w, last = 0.5, 0.0
for n, y in enumerate([2.0, 1.0], start=1):
    last = w * last + (1 - w) * y          # the moving average, pulled towards its starting 0
    smoothed = last / (1 - w ** n)         # debiasing undoes that pull
    print(f"point {n}: last = {last:.4f}, smoothed = {last:.4f} / {1 - w ** n:.4f} = {smoothed:.4f}")
answer = smoothed
""",
    why="last = 0.5·(0.5·0 + 0.5·2) + 0.5·1 = 1.0, divided by 1 − 0.5² = 0.75: {answer:.4f}. "
        "The debiasing division undoes the pull towards the starting 0.",
    mistakes=[
        (lambda: _smooth_last([2.0, 1.0], 0.5, debias=False),
         "That is the moving average before debiasing: divide by 1 − w^n (n = 2 points so far)."),
        (lambda: 1.5, "That is the plain mean of the two points; the EMA weights the newer one more."),
        (lambda: _smooth_last([2.0, 1.0], 0.5, debias=False) / (1 - 0.5),
         "You divided by 1 − w; at the second point the divisor is 1 − w² (w to the power n)."),
    ],
)

add(
    "03-rise",
    question=("In 'patent-insights', by how much (in nats, to 3 decimals) is the last validation "
              "loss above the lowest one?"),
    solution=lambda: float(_patent().metrics["valid_loss"].dropna().iloc[-1]
                           - _patent().metrics["valid_loss"].min()),
    decimals=3,
    hint="Take the valid_loss column without its empty rows: its last value minus its smallest.",
    worked="""
valid = ftlab.load_sample("patent-insights").metrics["valid_loss"].dropna()
print(f"lowest: {valid.min():.4f} at step {valid.idxmin()}; last: {valid.iloc[-1]:.4f} at step {valid.index[-1]}")
answer = valid.iloc[-1] - valid.min()
print(f"last - lowest = {answer:.4f} nats")
""",
    why="Last evaluation minus the lowest: {answer:.3f} nats. It compares two single evaluations, "
        "each measured on one small batch; the evaluations between them go up and down, so read "
        "the levels in ftlab.diagnose's evidence for the trend.",
    mistakes=[
        (lambda: float(_patent().metrics["valid_loss"].max() - _patent().metrics["valid_loss"].min()),
         "That is the highest validation loss minus the lowest; the question asks for the last one."),
        (lambda: float(_patent().metrics["valid_loss"].dropna().iloc[-1]
                       - _patent().metrics["train_loss"].dropna().iloc[-1]),
         "That is the gap between validation and training loss at the end, not the rise of validation."),
        (lambda: float(_patent().metrics["valid_loss"].dropna().iloc[-1]
                       / _patent().metrics["valid_loss"].min() - 1),
         "That is the rise relative to the lowest value (a fraction); the question asks for nats."),
    ],
)

add(
    "03-steps",
    question="A job trains 3 epochs on 250 examples with batch size 8. How many steps does it run?",
    solution=lambda: math.ceil(250 / 8) * 3,
    hint="One step is one batch. How many batches does one pass over 250 examples need?",
    worked="""
examples, batch_size, n_epochs = 250, 8, 3
steps_per_epoch = math.ceil(examples / batch_size)   # the last batch of an epoch is partial
print(f"{examples} / {batch_size} = {examples / batch_size} -> {steps_per_epoch} steps per epoch")
answer = steps_per_epoch * n_epochs
""",
    why="Each epoch needs ceil(250 / 8) = 32 steps (the last batch is partial), so 3 epochs = {answer} steps.",
    mistakes=[
        (lambda: 250 * 3 / 8, "Steps are whole: each epoch rounds up to ceil(250 / 8) = 32 steps."),
        (lambda: (250 // 8) * 3, "Rounding down drops the last, partial batch of every epoch."),
        (lambda: math.ceil(250 / 8), "That is one epoch; the job runs three."),
        (lambda: 250 * 3, "That counts examples, not steps: one step takes a batch of 8 examples."),
        (lambda: math.ceil(250 * 3 / 8),
         "You rounded once over all three epochs; each epoch ends with its own partial batch."),
    ],
)
