"""``ftlab finetune``: fine-tune the tiny model on a chat JSONL file from the command line.

    ftlab finetune TRAIN.jsonl --valid VALID.jsonl --epochs 3 -o run.csv
    ftlab finetune TRAIN.jsonl --model tinylm-char-v1 -o run.csv   # the MLP: seconds

writes the run in OpenAI's results-file layout (readable by ``ftlab.load_run`` and any tool that
reads OpenAI results) and prints the run's diagnosis. ``--model`` picks the shipped model: the
transformer that reads the whole conversation (``tinylm-attn-v1``, the default: tens of seconds) or
the MLP that sees the last 16 characters (``tinylm-char-v1``: seconds). Settings left out take
the model's own defaults (the transformer's depend on how many examples there are). Exit
status 2 when an input cannot be read, a value is out of range, or an output is refused (it
exists, or it is an input); nothing is written then.
"""


def add_parsers(sub):
    from ftlab.chat.cli import checked
    from ftlab.tinylm.model import DEFAULT_PRETRAINED, PRETRAINED_NAME, TRANSFORMER_NAME

    p = sub.add_parser("finetune", help="fine-tune ftlab's tiny model on a chat JSONL file "
                       "(CPU, seconds to a minute) and write an OpenAI-style results CSV")
    p.add_argument("train", help="training chat JSONL file")
    p.add_argument("--valid", help="validation chat JSONL file (adds validation loss)")
    p.add_argument("--model", default=DEFAULT_PRETRAINED, choices=(TRANSFORMER_NAME, PRETRAINED_NAME),
                   help=f"the shipped model to start from (default {DEFAULT_PRETRAINED}, the "
                        f"transformer; {PRETRAINED_NAME} is the MLP)")
    p.add_argument("--epochs", help="n_epochs, 1 to 1000 (default: the model's own: transformer 12 "
                   "below 256 examples, else 3; MLP 3)",
                   type=checked(int, lambda n: 1 <= n <= 1000, "a whole number from 1 to 1000"))
    p.add_argument("--batch-size", help="examples per step (default: the model's own: transformer "
                   "2 below 256 examples, else 8; MLP 4)",
                   type=checked(int, lambda n: n >= 1, "a whole number of at least 1"))
    p.add_argument("--lr-multiplier", help="learning_rate_multiplier (default: the model's own: "
                   "transformer 1 below 256 examples, else 8; MLP 1)",
                   type=checked(float, lambda x: 0 < x < float("inf"), "a number above 0"))
    p.add_argument("--lr-schedule", choices=("constant", "linear"),
                   help="keep the learning rate, or let it fall linearly to 0 (default: the "
                        "model's own: transformer constant below 256 examples, else linear; MLP "
                        "constant)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("-o", "--output", required=True, help="results CSV to write")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--save-model", help="also save the fine-tuned weights (.npz + .json) here")
    p.set_defaults(func=finetune_command)


def _read(path):
    """The examples of a chat file, or one ValueError line naming the first unreadable line."""
    import warnings

    from ftlab.chat.files import read_chat_jsonl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unreadable lines are reported below, in one line
        records = read_chat_jsonl(path)
    errors = [p for p in records.problems if p.severity == "error"]
    if errors:
        raise ValueError(f"{path}: {len(errors)} unreadable line(s); {errors[0]} "
                         f"(`ftlab check {path}` lists them all)")
    return records


def _outputs(args):
    """Every file this command writes: the results CSV, and the model's .npz and .json."""
    from pathlib import Path

    outputs = [Path(args.output)]
    if args.save_model:
        weights = Path(args.save_model).with_suffix(".npz")
        outputs += [weights, weights.with_suffix(".json")]
    return outputs


def finetune_command(args):
    import sys
    from pathlib import Path

    from ftlab._files import refuse_clashes, refuse_existing
    from ftlab._secrets import redact
    from ftlab.curves.diagnosis import diagnose
    from ftlab.tinylm.model import load_pretrained

    out = Path(args.output)
    try:
        refuse_clashes(_outputs(args), [args.train, args.valid])
        for path in _outputs(args):  # refuse before training, not after minutes of it
            refuse_existing(path, args.overwrite)
        train = _read(args.train)
        valid = _read(args.valid) if args.valid else None
        model = load_pretrained(args.model)
        run = model.finetune(train, valid, n_epochs=args.epochs, batch_size=args.batch_size,
                             learning_rate_multiplier=args.lr_multiplier,
                             lr_schedule=args.lr_schedule, seed=args.seed,
                             name=Path(args.train).stem)
    except ValueError as exc:
        print(redact(f"ftlab finetune: {exc}"), file=sys.stderr)
        return 2
    run.to_openai_csv(out, overwrite=args.overwrite)
    meta = run.meta
    print(f"fine-tuned {meta['model']} on {meta['n_train_examples']} examples: "
          f"{meta['total_steps']} steps, {meta['trained_tokens']} trained tokens, "
          f"{meta['wall_time_s']:.1f} s")
    print(f"wrote {out}")
    if args.save_model:
        print(f"saved model to {model.save(args.save_model, overwrite=args.overwrite)}")
    print(diagnose(run))
    return 0
