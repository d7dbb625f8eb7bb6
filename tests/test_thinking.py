"""llm/thinking.py: reasoning split from the visible reply, also while it is still streaming."""

from azera.llm.thinking import split_thinking


def test_a_reply_without_thinking_is_all_content() -> None:
    split = split_thinking("  Hello there.  ")
    assert (split.thinking, split.content) == ("", "Hello there.")


def test_thinking_blocks_are_taken_out_wherever_they_are() -> None:
    split = split_thinking("<think>plan A</think>Answer one. <think> plan B </think>Answer two.")
    assert split.thinking == "plan A\nplan B"
    assert split.content == "Answer one. Answer two."


def test_an_unclosed_block_is_still_thinking_while_it_streams() -> None:
    assert split_thinking("<think>weighing the options").thinking == "weighing the options"
    assert split_thinking("<think>weighing the options").content == ""
    later = split_thinking("<think>weighing the options</think>Take the train.")
    assert (later.thinking, later.content) == ("weighing the options", "Take the train.")


def test_empty_blocks_leave_no_blank_thinking() -> None:
    assert split_thinking("<think>  </think>Fine.").thinking == ""
