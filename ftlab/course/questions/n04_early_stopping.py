"""Exercises of notebook 04, early stopping."""

from ftlab.course.exercise import add


def _stop(values, **kw):
    from ftlab.curves.early_stopping import simulate_early_stopping

    return simulate_early_stopping(values, **kw)


def _valid(name):
    from ftlab.runs.samples import load_sample

    return load_sample(name).metrics["valid_loss"].dropna()


_ES_LOSSES = [0.9, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74]

add(
    "04-stop-index",
    question=(f"Validation losses {_ES_LOSSES}, Keras rule, patience 2, min_delta 0: at which "
              "evaluation index (0-based) does training stop?"),
    solution=lambda: _stop(_ES_LOSSES, patience=2).stopped_index,
    hint="Keep two numbers as you go: the best value so far and `wait`, the evaluations since it "
         "last improved. Training stops when `wait` reaches the patience.",
    worked="""
losses = [0.9, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74]
patience, min_delta = 2, 0.0
best, wait = math.inf, 0
for i, value in enumerate(losses):
    if value + min_delta < best:        # an improvement: a new best, the counter back to 0
        best, wait = value, 0
    else:                               # no improvement: one more evaluation waited
        wait += 1
    print(f"index {i}: value {value}, best {best}, wait {wait}")
    if wait >= patience and i > 0:      # Keras never stops at the first evaluation
        answer = i
        break
""",
    why="0.69 at index 3 is the best; 0.71 and 0.73 are two evaluations without improvement, so "
        "training stops at index {answer}.",
    mistakes=[
        (lambda: 3, "0.69 at index 3 is an improvement (it beats 0.70), so the counter resets there."),
        (lambda: 2, "Index 2 is only the first evaluation without improvement; patience 2 needs two."),
        (lambda: 6, "Count the evaluations without improvement after the best: the second one stops training."),
        (lambda: 4, "Index 4 (0.71) is the first evaluation without improvement after the new best "
                    "0.69; patience 2 waits for a second one."),
    ],
)

add(
    "04-min-delta",
    question=(f"Same losses {_ES_LOSSES}, Keras rule, patience 2, but min_delta 0.02: at which "
              "index does training stop?"),
    solution=lambda: _stop(_ES_LOSSES, patience=2, min_delta=0.02).stopped_index,
    hint="With min_delta, a value improves only if it beats the best by more than min_delta: "
         "check value + 0.02 < best at every evaluation.",
    worked="""
losses = [0.9, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74]
patience, min_delta = 2, 0.02
best, wait = math.inf, 0
for i, value in enumerate(losses):
    if value + min_delta < best:        # beats the best by more than min_delta
        best, wait = value, 0
    else:
        wait += 1
    print(f"index {i}: value {value}, value + min_delta {value + min_delta:.2f}, best {best}, wait {wait}")
    if wait >= patience and i > 0:
        answer = i
        break
""",
    why="0.69 beats the best 0.70 by only 0.01, less than min_delta, so it does not count as an "
        "improvement: indices 2 and 3 exhaust the patience and training stops at index {answer}.",
    mistakes=[
        (lambda: _stop(_ES_LOSSES, patience=2).stopped_index,
         "That ignores min_delta: with 0.02, 0.69 is not enough of an improvement over 0.70."),
        (lambda: 2, "Index 2 (0.72) is only the first evaluation without improvement after 0.70; "
                    "patience 2 needs a second one."),
        (lambda: 4, "At index 3 `wait` already reaches 2, the patience: training stops when `wait` "
                    "reaches the patience, not when it goes past it."),
    ],
)

add(
    "04-hf-best",
    question=("Hugging Face rule, threshold (min_delta) 0.02, patience 3, losses [1.0, 0.99, 0.985, "
              "0.984]: which value does the Trainer hold as best_metric when training stops "
              "(to 3 decimals)?"),
    solution=lambda: _stop([1.0, 0.99, 0.985, 0.984], patience=3, min_delta=0.02, flavor="hf").best_value,
    decimals=3,
    hint="Two things happen at each evaluation: the callback's counter (which needs an improvement "
         "bigger than the threshold) and the Trainer's best_metric (which moves on any improvement).",
    worked="""
losses = [1.0, 0.99, 0.985, 0.984]
threshold, patience = 0.02, 3
best_metric, counter = None, 0
for i, value in enumerate(losses):
    # the callback: only an improvement bigger than the threshold resets its counter
    if best_metric is None or (value < best_metric and best_metric - value > threshold):
        counter = 0
    else:
        counter += 1
    # the Trainer: best_metric follows every improvement, whatever the threshold
    if best_metric is None or value < best_metric:
        best_metric = value
    print(f"index {i}: value {value}, counter {counter}, best_metric {best_metric}")
    if counter >= patience:
        break
answer = best_metric
""",
    why="The callback's counter ignores improvements smaller than the threshold, but the Trainer "
        "updates best_metric on any improvement: it holds {answer} when the counter reaches 3.",
    mistakes=[
        (lambda: 1.0, "That is what Keras would keep: in Keras the best moves only on an improvement "
                      "bigger than min_delta. Hugging Face's best_metric ignores the threshold."),
        (lambda: 0.99, "0.99 was best_metric after index 1, but the Trainer moves it again at every "
                       "smaller value, threshold or not: follow it to the last evaluation."),
        (lambda: 0.985, "0.985 is best_metric before the last evaluation; the Trainer updates it with "
                        "0.984 after that evaluation, in the same step the callback stops training."),
    ],
)


_MIN_DELTAS = (("a", 0.0), ("b", 0.1), ("c", 1.0))


def _noisy_min_delta_key():
    from ftlab.curves.min_delta import min_delta_advice

    advice = min_delta_advice(_valid("historygpt").to_numpy(), patience=5)
    if advice.level_fall <= advice.noise:
        return "d"  # no min_delta separates improvement from noise on this curve
    return next((key for key, value in _MIN_DELTAS if value >= advice.noise), "d")


add(
    "04-noisy-min-delta",
    question=("`historygpt` validated at every step (its curve and numbers are just above). With "
              "the Keras rule and patience 5, which min_delta makes early stopping keep a model "
              "you can trust?"),
    solution=_noisy_min_delta_key,
    hint="Compare each min_delta with two numbers printed above: the step-to-step noise, and how "
         "far the curve's level falls over the whole run.",
    worked="""
v = ftlab.load_sample("historygpt").metrics["valid_loss"].dropna().to_numpy()
second = v[2:] - 2 * v[1:-1] + v[:-2]                       # a straight trend cancels here
noise = np.median(np.abs(second)) / 0.6745 / math.sqrt(3)   # step-to-step noise
k = len(v) // 10                                            # levels: means of k evaluations
levels = np.convolve(v, np.ones(k) / k, mode="valid")
fall = levels[0] - levels.min()
print(f"step-to-step noise {noise:.3f}; the level falls {fall:.3f} over the whole run")
# Below the noise a dip counts as an improvement; above it, so would every real fall.
options = {"a": 0.0, "b": 0.1, "c": 1.0}
answer = "d" if fall <= noise else next((k for k, d in options.items() if d >= noise), "d")
""",
    choices={
        "a": ("min_delta 0",
              "0 is below the step-to-step noise, so every new record low of the noise counts as "
              "an improvement: the rule resets on dips and keeps the luckiest evaluation it has "
              "seen, while the evaluations around it are much higher."),
        "b": ("min_delta 0.1",
              "0.1 is still far below the step-to-step noise printed above: a dip of noise clears "
              "it as easily as a real improvement, so the rule still keeps a lucky evaluation."),
        "c": ("min_delta 1.0",
              "1.0 is above the noise, so dips no longer count, but it is also above how far the "
              "curve's level falls over the whole run: no real improvement can count either, and "
              "the rule stops after 5 evaluations keeping the first one."),
        "d": ("none of them: lower the noise first (more validation examples per evaluation, or "
              "the full validation set), then choose min_delta",
              ""),
    },
    why="The curve's level falls less over the whole run than the loss moves from one evaluation "
        "to the next by noise: no min_delta separates improvement from noise. Below the noise dips "
        "count; above it real improvements would not. Make each evaluation less noisy first.",
)


def _near_checkpoints():
    """Mean validation loss of the evaluations within 100 steps of each OpenAI checkpoint."""
    v = _valid("patent-insights")
    return {c: float(v[(v.index >= c - 100) & (v.index <= c + 100)].mean()) for c in (555, 1110, 1665)}


def _checkpoint_key():
    from ftlab.curves.min_delta import evaluation_noise

    noise = evaluation_noise(_valid("patent-insights").to_numpy())
    near = _near_checkpoints()
    best, second = sorted(near, key=near.get)[:2]
    if near[second] - near[best] < noise and {best, second} == {555, 1110}:
        return "d"  # the file cannot tell the two lowest apart
    return {1665: "a", 555: "b", 1110: "c"}[best]


add(
    "04-which-checkpoint",
    question=("`patent-insights` kept a model at the end of each of its 3 epochs (steps 555 and "
              "1110, and the final model at 1665; the cell above shows the validation losses "
              "recorded near each). Which would you deploy, judging from its results file?"),
    solution=_checkpoint_key,
    hint="Compare the differences between the checkpoints' nearby evaluations with the "
         "step-to-step noise printed above: a difference smaller than the noise tells nothing.",
    worked="""
v = ftlab.load_sample("patent-insights").metrics["valid_loss"].dropna()
y = v.to_numpy()
second = y[2:] - 2 * y[1:-1] + y[:-2]                      # a straight trend cancels here
noise = np.median(np.abs(second)) / 0.6745 / math.sqrt(3)   # step-to-step noise
# each checkpoint's neighbours: the evaluations within 100 steps of it
near = {c: float(v[(v.index >= c - 100) & (v.index <= c + 100)].mean()) for c in (555, 1110, 1665)}
print({c: round(x, 3) for c, x in near.items()}, f"noise {noise:.3f}")
ranked = sorted(near, key=near.get)
print(f"the two lowest differ by {near[ranked[1]] - near[ranked[0]]:.3f}")
answer = "d" if near[ranked[1]] - near[ranked[0]] < noise else {1665: "a", 555: "b", 1110: "c"}[ranked[0]]
""",
    choices={
        "a": ("the final model (step 1665)",
              "The evaluation nearest the final model is higher than those near the two "
              "checkpoints by more than the step-to-step noise: this file gives no reason to "
              "deploy it over them."),
        "b": ("the checkpoint at step 555",
              "The evaluations near step 555 are the lowest on average, but by less than the "
              "step-to-step noise: the file cannot tell 555 from 1110, so choosing 555 on these "
              "numbers is choosing the luckier noise."),
        "c": ("the checkpoint at step 1110",
              "The evaluations near step 1110 are lower than the final model's, but no lower than "
              "those near 555 by more than the noise: the file cannot tell 1110 from 555."),
        "d": ("555 or 1110, decided on a measurement less noisy than one batch (the checkpoints' "
              "own full validation loss, or held-out prompts of your own)",
              ""),
    },
    why="The final model's nearby evaluation is worse than the other two by more than the noise, "
        "but 555 and 1110 differ by less than it: the results file cannot pick between them. "
        "Compare those two on something less noisy than one batch: each checkpoint's full "
        "validation loss (the whole validation file), or prompts of your own. Whatever you choose "
        "on, report the chosen model on examples that played no part in the choice (section 7).",
)
