"""Run.to_events, the polling replay and its explorer."""

import numpy as np
import pandas as pd
import pytest

import ftlab
from ftlab.runs.polling import poll_events
from ftlab.runs.run import Run, load_run


def _complete_run(n=100):
    steps = np.arange(1, n + 1)
    frame = pd.DataFrame({"train_loss": 3.0 / steps, "train_accuracy": 0.5 + steps / (4 * n)},
                         index=steps)
    frame.loc[steps % 10 == 0, "valid_loss"] = 3.5 / steps[steps % 10 == 0]
    frame.loc[n, "full_valid_loss"] = 0.1
    return Run(frame, {"name": "synthetic", "total_steps": n, "checkpoints": [50]})


def test_to_events_round_trips_through_load_run():
    run = _complete_run()
    events = run.to_events(start_time=1_700_000_000)
    assert events[0]["data"]["step"] == 100 and events[-1]["data"]["step"] == 1  # newest first
    assert events[0]["message"] == "Step 100/100: training loss=0.03, validation loss=0.04, " \
                                   "full validation loss=0.10"
    back = load_run(events)
    cols = ["train_loss", "train_accuracy", "valid_loss", "full_valid_loss"]
    pd.testing.assert_frame_equal(back.metrics[cols], run.metrics[cols], check_exact=True)
    assert back.meta["checkpoints"] == [50] and back.meta["missing_steps"] == []


def test_to_events_match_the_sdk_event_type():
    from openai.types.fine_tuning import FineTuningJobEvent

    for event in _complete_run(5).to_events(start_time=0):
        FineTuningJobEvent(**event)


@pytest.mark.parametrize("page_size, every, lost", [(20, 30, 30), (20, 20, 0), (5, 10, 50),
                                                    (30, 20, 0)])
def test_polling_loses_the_older_part_of_each_burst(page_size, every, lost):
    result = poll_events(_complete_run(100), page_size=page_size, every=every)
    assert result["lost"] == lost
    assert result["calls"] == result["polls"] == -(-100 // every)
    # the reader's own report of gaps agrees with what the loop lost (inside the seen span)
    first = result["seen"][0]
    assert result["run"].meta["missing_steps"] == [s for s in result["lost_steps"] if s > first]


def test_following_has_more_loses_nothing_but_costs_calls():
    result = poll_events(_complete_run(100), page_size=20, every=50, paginate=True)
    assert result["lost"] == 0 and result["calls"] == 6  # 3 pages for each of the 2 polls


def test_polling_rejects_nonsense():
    with pytest.raises(ValueError, match="at least 1"):
        poll_events(_complete_run(10), page_size=0)


def test_polling_explorer_redraws_when_controls_move():
    ex = ftlab.polling_explorer("marv", page_size=20, every=30)
    assert ex.result["lost"] == 23
    lost_line = ex.figure.axes[0].lines[2]
    assert len(lost_line.get_xdata()) == 23
    ex.controls["paginate"].value = True
    assert ex.result["lost"] == 0 and len(lost_line.get_xdata()) == 0
    assert "following every page" in ex.readout.value
