"""The composer (send, stop, Enter or Ctrl+Enter), model and temperature, and the mind bars."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from azera.components.chat.journal import journal_image_button
from azera.components.voice import mic_button
from azera.state.conversation import ConversationState
from azera.state.preferences import PreferencesState
from azera.state.sampling import ChatSamplingState, SamplingRow


def _composer_keys(send_on_enter: Var[bool]) -> Var:
    """Enter (or Ctrl/⌘+Enter when "Send on Enter" is off) submits; Shift+Enter always adds a line."""
    return Var(
        _js_expr=(
            "(e) => { if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && "
            f"(({send_on_enter!s}) || e.ctrlKey || e.metaKey)) {{ e.preventDefault(); "
            "if (!e.repeat && e.target.form) { e.target.form.requestSubmit(); } } }"
        ),
        _var_data=send_on_enter._get_all_var_data(),
    )


def composer() -> rx.Component:
    """The message box with send and stop."""
    return rx.form(
        rx.hstack(
            rx.text_area(
                name="message",
                id="composer",
                placeholder=rx.cond(
                    ConversationState.journal_mode,
                    "Write in your journal… (kept as a draft, no reply)",
                    rx.cond(
                        PreferencesState.send_on_enter,
                        "Message… (Enter sends, Shift+Enter for a new line)",
                        "Message… (Ctrl+Enter sends)",
                    ),
                ),
                custom_attrs={"on_key_down": _composer_keys(PreferencesState.send_on_enter)},
                flex="1",
                rows="3",
                max_length=16_000,
            ),
            mic_button(),
            rx.cond(
                ConversationState.streaming,
                rx.button(
                    rx.icon("square"),
                    "Stop",
                    type="button",
                    color_scheme="red",
                    on_click=ConversationState.stop,
                    id="stop",
                ),
                rx.button(rx.icon("send"), "Send", type="submit", id="send"),
            ),
            rx.cond(ConversationState.journal_mode, journal_image_button()),
            width="100%",
            align="end",
        ),
        on_submit=ConversationState.send,
        width="100%",
        padding="12px 16px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def model_controls() -> rx.Component:
    """Model and temperature for this chat."""
    return rx.hstack(
        rx.text("Model", size="2", color=rx.color("gray", 10)),
        rx.select.root(
            rx.select.trigger(placeholder=ConversationState.model_label, id="chat-model", min_width="180px"),
            rx.select.content(
                rx.select.item("persona default", value="persona default"),
                rx.foreach(ConversationState.models, lambda name: rx.select.item(name, value=name)),
            ),
            value=rx.cond(ConversationState.model_override == "", "persona default", ConversationState.model_override),
            on_change=ConversationState.set_model,
        ),
        rx.text("Temperature ", ConversationState.temperature, size="2", color=rx.color("gray", 10)),
        rx.slider(
            value=[ConversationState.temperature],
            min=0,
            max=2,
            step=0.1,
            on_value_commit=ConversationState.set_temperature,
            width="140px",
            id="temperature",
        ),
        advanced_sampling(),
        align="center",
        spacing="2",
    )


def _sampling_field(row: SamplingRow) -> rx.Component:
    return rx.hstack(
        rx.text(row["label"], size="2", width="130px"),
        rx.input(
            name=row["key"],
            default_value=row["value"],
            key=row["key"] + row["value"],
            id="sampling-" + row["key"],
            width="90px",
            size="1",
        ),
        rx.text(
            rx.cond(row["overridden"], "this chat (persona: " + row["inherited"] + ")", "persona / model default"),
            size="1",
            color=rx.color("gray", 10),
        ),
        align="center",
        spacing="2",
    )


def advanced_sampling() -> rx.Component:
    """Top p, top k, min p, repeat penalty and reply length for this chat; blank or unchanged = inherited."""
    return rx.popover.root(
        rx.popover.trigger(rx.button("Advanced", variant="ghost", size="1", id="sampling-open")),
        rx.popover.content(
            rx.form(
                rx.vstack(
                    rx.text("Sampling for this chat (", ChatSamplingState.model, ")", size="2", weight="bold"),
                    rx.foreach(ChatSamplingState.rows, _sampling_field),
                    rx.hstack(
                        rx.button("Save", type="submit", size="1", id="sampling-save"),
                        rx.button(
                            "Reset to persona",
                            type="button",
                            variant="soft",
                            size="1",
                            on_click=ChatSamplingState.clear,
                        ),
                        spacing="2",
                    ),
                    spacing="2",
                ),
                on_submit=ChatSamplingState.save,
            ),
        ),
        on_open_change=lambda _open: ChatSamplingState.load,
    )


def mind_bars() -> rx.Component:
    """The persona's mood, energy and focus, live."""
    return rx.hstack(
        rx.badge(ConversationState.mood, color_scheme="teal", id="mood-label"),
        rx.text("energy", size="1", color=rx.color("gray", 10)),
        rx.progress(value=ConversationState.energy, width="90px", id="energy-bar"),
        rx.text(ConversationState.energy, "%", size="1", id="energy-value"),
        rx.text("focus", size="1", color=rx.color("gray", 10)),
        rx.progress(value=ConversationState.focus, width="90px", color_scheme="teal"),
        rx.moment(interval=5000, on_change=ConversationState.refresh_mind, display="none"),
        align="center",
        spacing="2",
    )
