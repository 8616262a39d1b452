"""The formats ``load_run`` understands, the column names each uses, and the error it raises.

Kept apart from the readers so that every reader speaks the same vocabulary and every error ends
with the same list of formats.
"""

FORMATS = {
    "openai_csv": "OpenAI results CSV (step,train_loss,train_accuracy,valid_loss,"
                  "valid_mean_token_accuracy), raw or base64 as files.content() returns it",
    "openai_events": "OpenAI fine-tuning events: a list of event dicts/SDK objects or a page "
                     "{'data': [...], 'has_more': ...}, any order",
    "openai_event_log": "a printed event log: lines like '1734182951: Step 1/84: training "
                        "loss=3.57' or 'Event ID: / Message: / Additional Data:' blocks",
    "openai_checkpoints": "OpenAI fine_tuning.job.checkpoint objects (a list or a page)",
    "openai_legacy_csv": "legacy /v1/fine-tunes compiled_results.csv (training_loss, "
                         "validation_loss, ...)",
    "hf_trainer_state": "Hugging Face / TRL trainer_state.json (log_history)",
    "table": "any CSV or DataFrame with a step column and loss columns (column_map= names them)",
    "ftlab": "ftlab's own run format ('# ftlab run {meta}' then CSV), written by Run.save",
    "azure_csv": "Azure OpenAI results.csv (train_mean_token_accuracy, full_valid_* columns; -1, "
                 "nan, None or empty = not recorded)",
    "openai_sdk_repr": "printed OpenAI SDK objects: [FineTuningJobEvent(...), ...], "
                       "SyncCursorPage[FineTuningJobEvent](data=[...]) or openai 0.x "
                       "'<OpenAIObject list at 0x...> JSON: {...}'",
    "hf_console": "Hugging Face Trainer console output: {'loss': ..., 'epoch': ...} and "
                  "{'eval_loss': ...} lines (tqdm noise allowed); steps are log positions",
    "llamafactory_log": "LLaMA-Factory trainer_log.jsonl (current_steps, loss, eval_loss, lr)",
    "mlx_lora": "MLX-LM mlx_lm.lora output: 'Iter 10: Train loss 2.345, ...', "
                "'Iter 200: Val loss 1.234, ...'",
    "tfevents": "a TensorBoard event file (events.out.tfevents.*), given by its path",
    "wandb": "a W&B run file (run-*.wandb), given by its path",
    "summary": "a summary only (HF all_results.json / eval_results.json, W&B wandb-summary.json, "
               "a trainer_state.json without steps): recognised, it raises SummaryOnlyError "
               "naming the file with the curve; asked for, a Run with no steps and "
               "meta['summary']",
}
# Formats read from a file's path by another module (binary files).
PATH_FORMATS = {"tfevents": ("ftlab.runs.tensorboard", "read_tfevents"),
                "wandb": ("ftlab.runs.wandb_files", "read_wandb")}

OPENAI_CSV_MAP = {"valid_mean_token_accuracy": "valid_accuracy",
                  "train_mean_token_accuracy": "train_accuracy",
                  "full_valid_mean_token_accuracy": "full_valid_accuracy"}
LEGACY_MAP = {"training_loss": "train_loss", "training_token_accuracy": "train_accuracy",
              "validation_loss": "valid_loss", "validation_token_accuracy": "valid_accuracy"}
# Column names seen in generic logs, lower-cased -> canonical name.
TABLE_ALIASES = {
    "train_loss": "train_loss", "loss": "train_loss", "training_loss": "train_loss",
    "train/loss": "train_loss",
    "train_accuracy": "train_accuracy", "train_acc": "train_accuracy", "accuracy": "train_accuracy",
    "mean_token_accuracy": "train_accuracy", "train_mean_token_accuracy": "train_accuracy",
    "training_token_accuracy": "train_accuracy",
    "valid_loss": "valid_loss", "val_loss": "valid_loss", "validation_loss": "valid_loss",
    "eval_loss": "valid_loss", "eval/loss": "valid_loss",
    "valid_accuracy": "valid_accuracy", "val_accuracy": "valid_accuracy",
    "val_acc": "valid_accuracy", "eval_accuracy": "valid_accuracy",
    "valid_mean_token_accuracy": "valid_accuracy", "eval_mean_token_accuracy": "valid_accuracy",
    "validation_token_accuracy": "valid_accuracy",
    "full_valid_loss": "full_valid_loss", "full_valid_accuracy": "full_valid_accuracy",
    "full_valid_mean_token_accuracy": "full_valid_accuracy", "epoch": "epoch",
}
STEP_NAMES = ("step", "steps", "global_step", "iteration", "iter")
# The columns every Run has, in this order (NaN where the source did not record them).
CANONICAL = ("train_loss", "train_accuracy", "valid_loss", "valid_accuracy",
             "full_valid_loss", "full_valid_accuracy", "epoch")
LOSS_COLUMNS = ("train_loss", "valid_loss", "full_valid_loss")
FTLAB_HEADER = "# ftlab run "


class RunFormatError(ValueError):
    """A source load_run cannot read: names the source, the problem (with its line) and the fix,
    and ends with the formats load_run knows. ``problem`` and ``fix`` are kept apart so that an
    error can be told again with the format that was guessed and why."""

    def __init__(self, label, problem, fix=""):
        self.label, self.problem, self.fix = label, problem, fix
        text = f"{label}: {problem}" + (f". {fix}" if fix else "")
        super().__init__(f"{text}. (load_run reads: {', '.join(FORMATS)}; see "
                         "ftlab.runs.formats.FORMATS)")


class SummaryOnlyError(RunFormatError):
    """The source holds a run's final numbers but no steps. ``summary``: those numbers;
    ``curve_file``: a file next to it that holds the curve (None when none was found)."""

    def __init__(self, label, problem, fix, summary, curve_file=None):
        super().__init__(label, problem, fix)
        self.summary, self.curve_file = summary, curve_file


def fail(label, problem, fix=""):
    """A ValueError that names the source and says what was expected and which formats exist."""
    return RunFormatError(label, problem, fix)
