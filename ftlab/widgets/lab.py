"""The training lab of notebook 07: move a knob, the tiny model fine-tunes for real, curves overlay.

Each setting of the five controls (epochs, learning-rate multiplier, batch size, training-set size,
seed) fine-tunes a fresh copy of the pretrained tiny transformer on the tickets task, then measures
task accuracy on the test tickets. The controls start at the model's own defaults. Results are
kept per setting, so going back to a setting costs nothing, and every setting tried so far stays on
the plot: the learner produces under- and over-fitting and sees both the loss and the task. (A
setting picked by its test accuracy makes that accuracy optimistic: the lab is for seeing what the
knobs do, not for choosing.)

    lab = ftlab.training_lab()
    lab.controls["n_epochs"].value = 3     # trains, then overlays the new curves
"""

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ftlab.widgets.explorer import Explorer, plural

SETTINGS = ("n_epochs", "learning_rate_multiplier", "batch_size", "n_train", "seed")


def _tickets(which):
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    return read_chat_jsonl(data_dir() / "chat" / f"tickets_{which}.jsonl")


@dataclass
class Trial:
    """One fine-tune of the lab: its setting, its ``Run``, its task accuracy and how long it took."""

    setting: dict
    run: object
    accuracy: object
    seconds: float

    @cached_property
    def train_loss(self):
        """Mean training loss of each epoch (a Series indexed by epoch), computed once."""
        return self.run.epochs()["train_loss"]

    @property
    def label(self):
        s = self.setting
        return (f"{s['n_epochs']} ep, lr×{s['learning_rate_multiplier']:g}, batch {s['batch_size']}, "
                f"{s['n_train']} ex, seed {s['seed']}")


@dataclass
class Lab:
    """Fine-tunes per setting and remembers every trial (the lab's pure part: no widgets).

    ``load_model`` returns a fresh pretrained model (default: ``load_pretrained()``, the
    transformer); ``train``/``valid``/``test`` are chat records.
    The training set of size n is the first n of ``train`` in a fixed shuffled order, so changing
    the seed changes the initial batches, not which examples are in the set.
    """

    load_model: object = None
    train: list = None
    valid: list = None
    test: list = None
    trials: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.load_model is None:
            from ftlab.tinylm.model import load_pretrained

            self.load_model = load_pretrained
        self.train = self.train if self.train is not None else _tickets("train")
        self.valid = self.valid if self.valid is not None else _tickets("valid")
        self.test = self.test if self.test is not None else _tickets("test")
        self._order = np.random.default_rng(0).permutation(len(self.train))

    def run(self, **setting):
        """The trial of ``setting`` (fine-tuned now, or remembered from before)."""
        from ftlab.hosted.accuracy import task_accuracy

        setting = {name: setting[name] for name in SETTINGS}
        key = tuple(setting.values())
        if key not in self.trials:
            n_train = min(int(setting["n_train"]), len(self.train))
            train = [self.train[i] for i in self._order[:n_train]]
            model = self.load_model()
            start = time.perf_counter()
            run = model.finetune(train, self.valid, n_epochs=setting["n_epochs"],
                                 batch_size=setting["batch_size"],
                                 learning_rate_multiplier=setting["learning_rate_multiplier"],
                                 seed=setting["seed"], progress=False)
            accuracy = task_accuracy(model, self.test, progress=False)
            self.trials[key] = Trial(setting, run, accuracy, time.perf_counter() - start)
        return self.trials[key]

    def defaults(self, n_train):
        """The model's own hyperparameters for ``n_train`` examples: where the controls start."""
        return self.load_model().default_hyperparameters(n_train)


def _epoch_curve(run):
    """(epochs, full validation loss) at each epoch's end: the curve the lab compares."""
    m = run.metrics.dropna(subset=["full_valid_loss"])
    return m["epoch"].to_numpy(), m["full_valid_loss"].to_numpy()


def _lab_text(trial):
    acc, run = trial.accuracy, trial.run
    epochs, losses = _epoch_curve(run)
    best = int(np.argmin(losses))
    train = trial.train_loss
    return (f"{trial.label}: task accuracy {acc.accuracy:.2f} (95% CI {acc.low:.2f}–{acc.high:.2f}) "
            f"on {plural(acc.n, 'test ticket')}, chance {acc.chance_baseline:.2f}; training loss "
            f"{train.iloc[0]:.3f} in epoch 1, {train.iloc[-1]:.3f} in the last; lowest full "
            f"validation loss {losses[best]:.3f} after epoch {epochs[best]:g} of {epochs[-1]:g}; "
            f"fine-tuned in {trial.seconds:.1f} s")


def training_lab(lab=None, *, n_epochs=None, learning_rate_multiplier=None, batch_size=None,
                 n_train=None, seed=0):
    """The training lab explorer (notebook 07). ``lab``: a ``Lab`` (default: the tickets task).

    Settings left out start at the model's defaults for the training set (``Lab.defaults``).
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    lab = lab if lab is not None else Lab()
    n_train = n_train or len(lab.train)
    defaults = lab.defaults(n_train)
    n_epochs = n_epochs or defaults["n_epochs"]
    learning_rate_multiplier = learning_rate_multiplier or defaults["learning_rate_multiplier"]
    batch_size = batch_size or defaults["batch_size"]
    slow = {"continuous_update": False}  # each value fine-tunes: train on release, not while dragging
    controls = {
        "n_epochs": widgets.IntSlider(value=n_epochs, min=1, max=20, description="epochs", **slow),
        "learning_rate_multiplier": widgets.SelectionSlider(
            options=[0.1, 0.3, 1.0, 3.0, 10.0], value=learning_rate_multiplier,
            description="lr multiplier", **slow),
        "batch_size": widgets.SelectionSlider(options=[1, 2, 4, 8, 16], value=batch_size,
                                              description="batch size", **slow),
        "n_train": widgets.IntSlider(value=n_train, min=8, max=len(lab.train), step=8,
                                     description="examples", **slow),
        "seed": widgets.IntSlider(value=seed, min=0, max=9, description="seed", **slow),
    }
    fig = Figure(figsize=(11, 4))  # not pyplot: the figure belongs to the explorer alone
    ax_loss, ax_acc = fig.subplots(1, 2, width_ratios=[3, 2])

    def compute(**setting):
        return {"trial": lab.run(**setting), "all": list(lab.trials.values())}

    def draw(result):
        current = result["trial"]
        ax_loss.clear(), ax_acc.clear()
        for i, trial in enumerate(result["all"]):
            x, y = _epoch_curve(trial.run)
            mine = trial is current
            ax_loss.plot(x, y, "o-", lw=2.5 if mine else 1, alpha=1 if mine else 0.35,
                         color="C3" if mine else f"C{i % 3}", label=trial.label if mine else None)
            if mine:  # its training loss too: does the model follow its training data?
                train = trial.train_loss
                ax_loss.plot(train.index, train.to_numpy(), "--", color="C3", lw=1.5,
                             label="its training loss (epoch mean)")
            acc = trial.accuracy
            ax_acc.errorbar([i + 1], [acc.accuracy], yerr=[[acc.accuracy - acc.low], [acc.high - acc.accuracy]],
                            fmt="o", color="C3" if mine else "0.6", capsize=3)
        ax_acc.axhline(current.accuracy.chance_baseline, ls=":", color="0.4", label="chance")
        ax_loss.set(xlabel="epoch", ylabel="loss (nats/token)",
                    title="full validation loss of every setting tried so far")
        ax_loss.legend(loc="upper right", fontsize="small")
        ax_acc.set(xlabel="setting, in the order tried", ylabel="task accuracy on the test tickets",
                   ylim=(0, 1), xlim=(0.5, len(result["all"]) + 0.5), title="accuracy with 95% interval")
        for ax in (ax_loss, ax_acc):
            ax.xaxis.get_major_locator().set_params(integer=True)  # epochs and settings are whole
        ax_acc.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        return _lab_text(current)

    explorer = Explorer(controls, compute, draw, fig,
                        layout=widgets.VBox([widgets.HBox(list(controls.values())[:3]),
                                             widgets.HBox(list(controls.values())[3:])]))
    explorer.lab = lab
    return explorer
