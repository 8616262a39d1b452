"""The ticket router's data at full size: every shipped training ticket, and a validation set.

``tickets_train.jsonl`` (72 messages) is the course's small training file. With
``tickets_more.jsonl`` there are 1,380; its first 80 join ``tickets_valid.jsonl`` as validation,
so 1,300 are left to train on. ``tickets_test.jsonl`` stays unseen: score on it, never choose on it.
"""

N_MORE_FOR_VALIDATION = 80


def ticket_router_data():
    """(train, valid) chat records: 1,300 training tickets and 96 validation tickets.

    >>> train, valid = ticket_router_data()
    >>> len(train), len(valid)
    (1300, 96)
    """
    from ftlab._data import data_dir
    from ftlab.chat.files import read_chat_jsonl

    chat = data_dir() / "chat"
    more = read_chat_jsonl(chat / "tickets_more.jsonl")
    train = read_chat_jsonl(chat / "tickets_train.jsonl") + more[N_MORE_FOR_VALIDATION:]
    valid = read_chat_jsonl(chat / "tickets_valid.jsonl") + more[:N_MORE_FOR_VALIDATION]
    return train, valid
