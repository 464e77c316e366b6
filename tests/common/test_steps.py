"""The consumer kit's steps on their own (no broker): order, back-pressure, poison, and what a stop leaves."""

import threading
from types import SimpleNamespace

import pytest

from services.common.steps import (
    Commit,
    Context,
    DeadLetter,
    Message,
    MessageRejected,
    PermanentError,
    Stopped,
    batch,
    run_task,
    run_task_in_thread,
)


def _messages(offsets: range) -> list[Message]:
    return [
        Message(SimpleNamespace(topic="t", partition=0, offset=offset, headers=[]), offset)
        for offset in offsets
    ]


def _chain(*factories, stop: threading.Event | None = None):
    """The declared steps, then DeadLetter and Commit (as the runner builds it), recording commits (the offset
    committed for partition 0) and dead letters (their offsets)."""
    context = Context(
        consumer="test",
        stop=stop or threading.Event(),
        max_record_attempts=2,
        retry_wait=lambda _failures: 0.01,
        transient_errors=(),
        alive=lambda: None,
    )
    commits: list[int] = []
    letters: list[int] = []
    commit = Commit(lambda offsets: commits.append(offsets[next(iter(offsets))].offset), "test")
    chain = DeadLetter(context, commit, send=lambda record, _error: letters.append(record.offset))
    for factory in reversed(factories):
        chain = factory(context, chain)
    return chain, commits, letters


def _until(predicate, step) -> None:
    for _ in range(500):
        step.poll()
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError("not reached")


def test_a_list_whose_work_keeps_failing_is_never_committed_past_while_later_ones_are_done():
    """The indexer's bulk step: later batches are submitted (and built) while an earlier one is still being
    retried (a dependency down); no commit may pass the earlier batch until its work is durable."""
    outage = threading.Event()
    outage.set()
    tried: list[int] = []

    def send(messages):
        tried.append(messages[0].value)
        if messages[0].value == 0 and outage.is_set():
            raise ConnectionError("engine down")
        return messages

    step, commits, _letters = _chain(run_task_in_thread(send, max_pending=2))
    step.submit(_messages(range(0, 3)))
    step.submit(_messages(range(3, 6)))
    with pytest.raises(MessageRejected):  # back-pressure: two lists pending, the third is not taken
        step.submit(_messages(range(6, 9)))
    _until(lambda: tried.count(0) >= 5, step)
    assert commits == [] and 3 not in tried, "nothing committed, nothing after the failing list sent"
    outage.clear()
    _until(lambda: commits == [3, 6], step)
    step.submit(_messages(range(6, 9)))  # taken again once there is room
    _until(lambda: commits == [3, 6, 9], step)
    step.join()


def test_a_poison_record_is_dead_lettered_in_place_and_committed_in_order():
    def decode(message):
        if message.value == 1:
            raise PermanentError("undecodable")
        return message.replace(message.value * 10)

    step, commits, letters = _chain(run_task(decode))
    step.submit(_messages(range(3)))
    assert letters == [1] and commits == [3]


def test_batches_are_cut_to_size_and_the_rest_goes_on_when_polled():
    seen: list[list[int]] = []

    def record(messages):
        seen.append([message.value for message in messages])
        return messages

    chain, commits, _letters = _chain(batch(2), run_task_in_thread(record, max_pending=10))
    chain.submit(_messages(range(5)))
    _until(lambda: commits == [2, 4, 5], chain)
    assert seen == [[0, 1], [2, 3], [4]]
    chain.join()


def test_a_stop_abandons_unfinished_work_and_everything_after_it():
    stop = threading.Event()
    release = threading.Event()

    def slow_then_down(messages):
        if messages[0].value == 0:
            release.wait(5)
            raise ConnectionError("engine down")  # after the stop: not tried again
        return messages

    step, commits, _letters = _chain(run_task_in_thread(slow_then_down, max_pending=2), stop=stop)
    step.submit(_messages(range(0, 2)))
    step.submit(_messages(range(2, 4)))
    stop.set()
    release.set()
    with pytest.raises(Stopped):
        _until(lambda: False, step)
    step.join()
    assert commits == [], "the second list finished, but it comes after the abandoned first one"
