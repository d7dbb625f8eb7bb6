"""What ``/v1`` takes and answers, in the OpenAI protocol's own shapes (requests, answers, errors)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, Field


class OpenAIError(HTTPException):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(status_code=status, detail=message)
        self.kind, self.code = kind, code


def error_body(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict:
    """OpenAI's error object."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Message(BaseModel):
    """One message of the conversation (text parts only)."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = Field(default="", description="text, or a list of text parts")
    name: str | None = Field(default=None, max_length=64)

    def text(self) -> str:
        """The message's text (the text parts joined; images and other parts are not read)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")


class CompletionRequest(BaseModel):
    """Body of POST /v1/chat/completions (the fields Azera reads; others are accepted and ignored)."""

    model: str = Field(max_length=200)
    messages: list[Message]
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=8192)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    user: str | None = Field(default=None, max_length=200)
    stream_options: dict[str, Any] | None = None


class ModelOut(BaseModel):
    """A model as OpenAI lists it."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelOut]


class Usage(BaseModel):
    """Tokens the model read and wrote."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ReplyMessage(BaseModel):
    """The assistant's message."""

    role: Literal["assistant"] = "assistant"
    content: str
    reasoning_content: str | None = Field(default=None, description="the model's <think> block, when it wrote one")


class Choice(BaseModel):
    """The one answer."""

    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop", "length"]


class Completion(BaseModel):
    """A whole answer (``stream`` false)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    azera_chat_id: str | None = Field(default=None, description="the Azera chat the exchange is saved in")
