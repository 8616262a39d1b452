"""Fine-tune the tiny transformer into the shipped ticket router, reproducibly.

    python tools/finetune_ticket_router.py            # writes data/models/tinylm-attn-tickets-v1.{npz,json}
    python tools/finetune_ticket_router.py --check    # fine-tunes in memory, compares with the shipped hash

The shipped transformer (``tinylm-attn-v1``) fine-tuned with its defaults and seed 0 on the 1,300
training tickets (``ftlab.chat.tickets.ticket_router_data``): under a minute of one core. Notebook
04a loads the result to show a model that does the job, without a minute of training in the
notebook. One BLAS thread, so the same Python, numpy and BLAS build give the same weights.
"""

import _experiments  # first: one BLAS thread before numpy loads (see it)

import argparse
import sys
import time

from ftlab.chat.tickets import ticket_router_data
from ftlab.tinylm.files import read_model, weights_hash
from ftlab.tinylm.model import ROUTER_NAME, load_pretrained_transformer, pretrained_path

SEED = 0


def finetune_router():
    """The router's weights, fine-tuned from the shipped transformer; and its run."""
    train, valid = ticket_router_data()
    model = load_pretrained_transformer()
    run = model.finetune(train, valid, seed=SEED)
    return model, run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="fine-tune in memory and compare with the shipped weights' hash")
    ap.add_argument("--overwrite", action="store_true", help="replace the shipped files")
    args = ap.parse_args()
    path = pretrained_path(ROUTER_NAME)
    if not args.check and path.exists() and not args.overwrite:
        print(f"{path} exists; pass --overwrite to replace it (or --check to compare)",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    model, run = finetune_router()
    print(f"fine-tuned in {time.perf_counter() - start:.0f} s: {run.meta['hyperparameters']}, "
          f"seed {SEED}, {run.meta['n_train_examples']} training tickets")
    if args.check:
        shipped = read_model(path)[0]["sha256"]
        same = weights_hash(model.params) == shipped
        print("same weights as the shipped ones" if same else
              "different weights from the shipped ones (another numpy or BLAS build rounds "
              "differently)")
        return 0 if same else 1
    pretrained = {k: v for k, v in model.info.items() if k != "finetuned"}
    model.info = {"name": ROUTER_NAME, "finetuned": model.info["finetuned"],
                  "data": "ftlab.chat.tickets.ticket_router_data", "seed": SEED,
                  "tool": "tools/finetune_ticket_router.py", "finetuned_from": pretrained}
    print(f"wrote {model.save(path, overwrite=args.overwrite)}")
    return 0


if __name__ == "__main__":
    _experiments.run(main)
