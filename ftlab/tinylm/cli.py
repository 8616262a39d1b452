"""``ftlab finetune``: fine-tune the tiny model on a chat JSONL file from the command line.

    ftlab finetune TRAIN.jsonl --valid VALID.jsonl --epochs 3 -o run.csv

writes the run in OpenAI's results-file layout (readable by ``ftlab.load_run`` and any tool that
reads OpenAI results) and prints the run's diagnosis.
"""


def add_parsers(sub):
    p = sub.add_parser("finetune", help="fine-tune ftlab's tiny model on a chat JSONL file "
                       "(CPU, seconds) and write an OpenAI-style results CSV")
    p.add_argument("train", help="training chat JSONL file")
    p.add_argument("--valid", help="validation chat JSONL file (adds validation loss)")
    p.add_argument("--epochs", type=int, default=3, help="n_epochs (default 3)")
    p.add_argument("--batch-size", type=int, default=4, help="examples per step (default 4)")
    p.add_argument("--lr-multiplier", type=float, default=1.0,
                   help="learning_rate_multiplier (default 1.0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="results CSV to write")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--save-model", help="also save the fine-tuned weights (.npz + .json) here")
    p.set_defaults(func=finetune_command)


def _read(path):
    from ftlab.chat.files import read_chat_jsonl

    return read_chat_jsonl(path, strict=True)


def finetune_command(args):
    from pathlib import Path

    from ftlab.curves.diagnosis import diagnose
    from ftlab.tinylm.model import load_pretrained

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        print(f"error: {out} exists; pass --overwrite to replace it")
        return 2
    try:
        train = _read(args.train)
        valid = _read(args.valid) if args.valid else None
        model = load_pretrained()
        run = model.finetune(train, valid, n_epochs=args.epochs, batch_size=args.batch_size,
                             learning_rate_multiplier=args.lr_multiplier, seed=args.seed,
                             name=Path(args.train).stem)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}")
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
