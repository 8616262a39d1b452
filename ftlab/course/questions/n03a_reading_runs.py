"""Exercises of notebook 03a, reading runs."""

from ftlab.course.exercise import add
from ftlab.course.questions.n03_loss_curves import _patent


def _sample(name):
    from ftlab.runs.samples import load_sample

    return load_sample(name)


def _lost_marv(page_size, every, paginate=False):
    from ftlab.runs.polling import poll_events

    return poll_events(_sample("marv"), page_size=page_size, every=every, paginate=paginate)["lost"]


add(
    "03a-best-step",
    question="In the shipped run `ms-thesis-legacy`, at which step is the validation loss lowest?",
    solution=lambda: _sample("ms-thesis-legacy").best_valid()[0],
    hint="Keep only the steps that have a validation loss (dropna), then ask for the step of the "
         "smallest one (idxmin): the index is the step, not the position.",
    worked="""
run = ftlab.load_sample("ms-thesis-legacy")
valid = run.metrics["valid_loss"].dropna()      # only the steps where validation ran
print(f"{len(valid)} evaluations, from step {valid.index[0]} to {valid.index[-1]}")
answer = int(valid.idxmin())                    # the step (index) of the lowest value
print(f"lowest {valid.min():.4f} at step {answer}")
""",
    why="run.best_valid() gives (step, loss): the lowest validation loss is at step {answer}. "
        "Whether that model is really better than its neighbours is another question: notebook 04 "
        "measures how noisy these evaluations are.",
    mistakes=[
        (lambda: int(_sample("ms-thesis-legacy").metrics["valid_loss"].last_valid_index()),
         "That is the last step with a validation loss, not the lowest one: use idxmin (or "
         "run.best_valid())."),
        (lambda: int(_sample("ms-thesis-legacy").metrics["train_loss"].idxmin()),
         "That is where the training loss is lowest. The question asks about validation loss."),
        (lambda: int(_sample("ms-thesis-legacy").metrics["valid_loss"].dropna().to_numpy().argmin()),
         "That is the position of the lowest value among the evaluations (numpy's argmin), not "
         "its step: read the index of the Series (idxmin)."),
    ],
)

add(
    "03a-epoch",
    question=("`patent-insights` trained 3 epochs of 555 steps. In which epoch (1, 2 or 3) was "
              "step 1200?"),
    solution=lambda: int(_patent().epochs().query("first_step <= 1200 <= last_step").index[0]),
    hint="Epoch 1 holds steps 1 to 555. Where does epoch 2 end?",
    worked="""
steps_per_epoch = 555
ends = [steps_per_epoch * e for e in (1, 2, 3)]          # last step of each epoch
print("epochs end at steps", ends)
answer = next(e for e, end in zip((1, 2, 3), ends) if 1200 <= end)
print(f"step 1200 <= {ends[answer - 1]}: epoch {answer}  (= ceil(1200 / 555) = {math.ceil(1200 / 555)})")
""",
    why="Epoch 1 is steps 1-555, epoch 2 is 556-1110, so step 1200 is in epoch {answer} "
        "(run.epochs() lists each epoch's first and last step).",
    mistakes=[
        (lambda: 1200 // 555,
         "1200 // 555 counts the epochs already finished. Epochs are numbered from 1: add one."),
        (lambda: 1200 / 555,
         "1200 / 555 is the epoch value a log would show (epochs done, 2.16); the epoch step 1200 "
         "belongs to is the next whole number."),
    ],
)

add(
    "03a-lost-steps",
    question=("Replay the Marv recording (83 step events: step 2 is already missing) polled every 25 "
              "steps, reading only the newest page of 20 events each time. How many step events "
              "does the loop lose?"),
    solution=lambda: _lost_marv(20, 25),
    hint="Poll after steps 25, 50, 75 and at the end (84). At each poll, count the events created "
         "since the previous one: all but the newest 20 are lost.",
    worked="""
steps = ftlab.load_sample("marv").steps           # the 83 recorded steps, oldest first
every, page = 25, 20
polls = list(range(every, int(steps[-1]), every)) + [int(steps[-1])]
done, lost = 0, []
for point in polls:
    available = int(np.searchsorted(steps, point, side="right"))  # events created so far
    new = steps[done:available]
    missed = new[:-page] if len(new) > page else new[:0]           # older than the newest page
    print(f"poll after step {point}: {len(new)} new events, {len(missed)} lost {missed.tolist()}")
    lost += missed.tolist()
    done = available
answer = len(lost)
""",
    why="Each poll finds up to 25 new events but reads only the newest 20, so the older ones "
        "of each burst are lost: {answer} in all. Follow has_more (or read the results file) "
        "and none are lost.",
    mistakes=[
        (lambda: _lost_marv(20, 25, paginate=True),
         "That is what a loop following has_more loses. This one reads only the newest page."),
        (lambda: 15, "Five lost at each of three full polls would be 15, but the first burst holds "
                     "only 24 events: step 2 was never there."),
        (lambda: 5, "Five is what one full poll loses; count every poll (poll_events tells you)."),
    ],
)


def _which_log_key():
    csv, events = _sample("patent-insights"), _sample("patent-insights-last-events")

    def count(run, column):
        return int(run.metrics[column].notna().sum())

    curve = "csv" if count(csv, "valid_loss") > count(events, "valid_loss") else "events"
    final = "events" if count(events, "full_valid_loss") > count(csv, "full_valid_loss") else "csv"
    return {("csv", "csv"): "a", ("events", "events"): "b", ("csv", "events"): "c"}.get(
        (curve, final), "d")


add(
    "03a-which-log",
    question=("You hold two records of the same job, printed just above: its results file "
              "(`patent-insights`) and the job's newest events (`patent-insights-last-events`). "
              "Which do you read the validation curve from, and which the final full validation "
              "loss?"),
    solution=_which_log_key,
    hint="Count, in each record, the steps with a `valid_loss` and the steps with a "
         "`full_valid_loss`.",
    worked="""
csv = ftlab.load_sample("patent-insights")
events = ftlab.load_sample("patent-insights-last-events")
for name, run in (("results file", csv), ("events", events)):
    m = run.metrics
    print(f"{name}: steps {run.steps[0]}..{run.steps[-1]}, valid_loss at {m['valid_loss'].notna().sum()} "
          f"steps, full_valid_loss at {m['full_valid_loss'].notna().sum()}")
curve = "csv" if csv.metrics["valid_loss"].notna().sum() > events.metrics["valid_loss"].notna().sum() else "events"
final = "events" if events.metrics["full_valid_loss"].notna().sum() > csv.metrics["full_valid_loss"].notna().sum() else "csv"
answer = {("csv", "csv"): "a", ("events", "events"): "b", ("csv", "events"): "c"}.get((curve, final), "d")
""",
    choices={
        "a": ("the results file for both",
              "The results file holds the curve, but no full validation loss: its "
              "full_valid_loss column is empty at every step."),
        "b": ("the events for both",
              "The events hold the final full validation loss, but only the job's last steps and "
              "no valid_loss at all: there is no curve in them."),
        "c": ("the results file for the curve, the events for the final full validation loss",
              ""),
        "d": ("neither: the events miss the steps before 1660, so the job did not finish",
              "The events end with the job's own message that it completed successfully. They "
              "are only the job's newest events, the ones the call asked for; every earlier step "
              "is in the results file."),
    },
    why="Each record holds what the other lacks: the results file every step's training loss and "
        "the validation curve, the events the full validation loss of the final model. Read each "
        "number from the record that has it.",
)
