"""The chat's inbox: questions sent at once are answered in the order sent, even when they reach the
server the other way round; one answerer at a time; a refused question does not hold up the next."""

import threading
import time

import pytest

chat_ui = pytest.importorskip("qa.chat_ui")


def drain(inbox):
    got = []
    assert inbox.claim()
    while (message := inbox.next_question()) is not None:
        got.append(message)
    return got


def test_questions_are_answered_in_the_order_sent_not_the_order_they_arrive():
    inbox = chat_ui._Inbox()
    assert not inbox.put(2, "second")  # the first to arrive waits behind nothing yet
    late = threading.Timer(0.2, inbox.put, (1, "first"))  # sent first, still on its way
    late.start()
    assert drain(inbox) == ["first", "second"]
    late.join()


def test_a_gap_that_never_fills_holds_the_answer_back_only_a_moment(monkeypatch):
    monkeypatch.setattr(chat_ui._Inbox, "WAIT", 0.1)
    inbox = chat_ui._Inbox()
    inbox.put(2, "second")
    start = time.monotonic()
    assert drain(inbox) == ["second"]
    assert time.monotonic() - start < 2


def test_a_refused_question_does_not_hold_up_the_next(monkeypatch):
    monkeypatch.setattr(chat_ui._Inbox, "WAIT", 30)  # a wait would fail the test by its length
    inbox = chat_ui._Inbox()
    inbox.put(2, "second")
    inbox.put(1, None)  # empty, warned about in the page
    start = time.monotonic()
    assert drain(inbox) == ["second"]
    assert time.monotonic() - start < 5


def test_one_answerer_at_a_time_and_a_question_sent_meanwhile_is_said_to_wait():
    inbox = chat_ui._Inbox()
    inbox.put(1, "first")
    assert inbox.claim()
    assert not inbox.claim()  # a second call finds the first at work: it answers nothing
    assert inbox.next_question() == "first"
    assert inbox.put(2, "second")  # sent while the first is answered: the user is told it waits
    assert inbox.next_question() == "second"
    assert inbox.next_question() is None
    assert not inbox.busy and inbox.claim() is False  # empty: nothing to claim
    inbox.put(3, "third")
    assert drain(inbox) == ["third"]


def test_an_answerer_that_failed_leaves_the_inbox_to_the_next():
    inbox = chat_ui._Inbox()
    inbox.put(1, "first")
    inbox.put(2, "second")
    assert inbox.claim() and inbox.next_question() == "first"
    inbox.release()  # its answer raised, or the page went away
    assert drain(inbox) == ["second"]


def test_nothing_to_claim_when_only_a_refused_question_came():
    inbox = chat_ui._Inbox()
    inbox.put(1, None)
    assert not inbox.claim()  # the answering event then changes nothing on the page
    inbox.put(2, "second")
    assert drain(inbox) == ["second"]


def test_the_answerer_ends_at_once_when_only_refused_questions_are_left(monkeypatch):
    monkeypatch.setattr(chat_ui._Inbox, "WAIT", 30)
    inbox = chat_ui._Inbox()
    inbox.put(1, "first")
    inbox.put(3, None)  # 2 never comes (its page went away); 3 was empty
    assert inbox.claim() and inbox.next_question() == "first"
    start = time.monotonic()
    assert inbox.next_question() is None and not inbox.busy
    assert time.monotonic() - start < 5
    inbox.put(4, "fourth")
    assert drain(inbox) == ["fourth"]
