"""Pictures: the tiny real diffusers pipeline, the ComfyUI and Automatic1111 adapters, the queue, storage, the API."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from azera.api.routes import build_api
from azera.config import get_settings
from azera.images import jobs
from azera.images.a1111 import A1111Backend
from azera.images.base import CancelledError, ImageError, Step, checked_request
from azera.images.comfyui import ComfyUIBackend
from tests.a1111_server import a1111_server, seed_colour
from tests.comfyui_server import comfyui_server

pytest.importorskip("diffusers", reason="the image extra (requirements-images.txt) is not installed")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from azera.bench.tiny_pipeline import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture
def drawing(prepared, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AZERA_IMAGE_MODEL", str(tiny_model))
    get_settings.cache_clear()
    with TestClient(build_api()) as client:
        yield client


def _events(response) -> list[tuple[str, dict]]:
    events, name = [], ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line.split(":", 1)[1])))
    return events


def _generate(client: TestClient, **body) -> list[tuple[str, dict]]:
    with client.stream("POST", "/api/images/generate", json={"prompt": "a red fox", **body}) as response:
        assert response.status_code == 200, response.read()
        return _events(response)


def test_txt2img_on_the_tiny_pipeline_reports_every_step_and_stores_a_readable_png(drawing: TestClient) -> None:
    events = _generate(drawing, width=64, height=64, steps=4, seed=7, negative_prompt="blurry")
    names = [name for name, _ in events]
    assert names[0] == "queued" and names[-1] == "done"
    assert [data["step"] for name, data in events if name == "progress"] == [1, 2, 3, 4]
    assert any(data["preview"].startswith("data:image/jpeg") for name, data in events if name == "progress")
    made = events[-1][1]["images"]
    assert len(made) == 1 and made[0]["seed"] == 7 and made[0]["backend"] == "diffusers"
    png = drawing.get(made[0]["url"])
    picture = Image.open(io.BytesIO(png.content))
    assert picture.size == (64, 64)
    parameters = picture.text["parameters"]
    assert parameters.startswith("a red fox\nNegative prompt: blurry\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 7")
    assert "Size: 64x64" in parameters
    again = _generate(drawing, width=64, height=64, steps=4, seed=7, negative_prompt="blurry")[-1][1]["images"][0]
    same = Image.open(io.BytesIO(drawing.get(again["url"]).content))
    assert np.array_equal(np.asarray(same), np.asarray(picture))  # the seed makes it again
    assert [image["id"] for image in drawing.get("/api/images").json()][:2] == [again["id"], made[0]["id"]]
    assert drawing.delete(made[0]["url"]).status_code == 204
    assert drawing.get(made[0]["url"]).status_code == 404
    assert not (get_settings().data_dir / "media" / "images" / f"{made[0]['id']}.png").exists()


def test_img2img_uses_its_reference(drawing: TestClient) -> None:
    outputs = []
    for colour in ((255, 0, 0), (0, 0, 255)):
        upload = io.BytesIO()
        Image.new("RGB", (64, 64), colour).save(upload, format="PNG")
        reference = drawing.post("/api/images/upload-reference", content=upload.getvalue()).json()
        assert drawing.get(reference["url"]).headers["content-type"] == "image/png"
        events = _generate(drawing, width=64, height=64, steps=4, seed=3, reference=reference["name"], strength=0.5)
        assert [data["step"] for name, data in events if name == "progress"] == [1, 2]  # strength 0.5 of 4 steps
        image = events[-1][1]["images"][0]
        assert image["strength"] == 0.5
        outputs.append(np.asarray(Image.open(io.BytesIO(drawing.get(image["url"]).content)), dtype=float))
    assert np.abs(outputs[0] - outputs[1]).mean() > 0.5  # same seed and prompt: only the reference differs


def test_bad_requests_get_a_reason(drawing: TestClient) -> None:
    for body, reason in (
        ({"steps": 0}, "greater than or equal to 1"),
        ({"steps": 500}, "less than or equal to 150"),
        ({"cfg": -1}, "greater than or equal to 0"),
        ({"width": 100}, "multiple of 8"),
        ({"prompt": ""}, "at least 1 character"),
        ({"reference": "ref-" + "0" * 32 + ".png"}, "no reference image"),
        ({"backend": "comfyui"}, "not configured"),
    ):
        refused = drawing.post("/api/images/generate", json={"prompt": "a fox", **body})
        assert refused.status_code in (400, 404, 422) and reason in refused.text, (body, refused.text)
    for content, reason in (
        (b"MZ\x90\x00 not an image", "not an image"),
        (b"\x00" * 21_000_001, "at most 20 MB"),
        (_bomb(), "decompression bomb|megapixels"),
    ):
        refused = drawing.post("/api/images/upload-reference", content=content)
        assert refused.status_code in (400, 413), refused.text
        assert any(part in refused.json()["detail"] for part in reason.split("|")), refused.text


def _bomb() -> bytes:
    """A small PNG that decodes to 100 megapixels of one colour."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_a_long_prompt_is_clipped_to_the_models_tokens(drawing: TestClient) -> None:
    events = _generate(drawing, prompt=("a fox in the snow " * 600)[:10_000], width=64, height=64, steps=2)
    assert events[-1][0] == "done" and "clipped to the 75 tokens" in events[-1][1]["notice"]
    refused = drawing.post("/api/images/generate", json={"prompt": "x" * 20_001})
    assert refused.status_code == 422 and "at most 20000 characters" in refused.text


def test_without_a_backend_the_api_says_how_to_get_one(prepared) -> None:
    with TestClient(build_api()) as client:
        listed = client.get("/api/images/models").json()
        assert listed["backends"] == [] and "AZERA_IMAGE_MODEL" in listed["hint"]
        assert "AZERA_COMFYUI_URL" in listed["hint"]
        refused = client.post("/api/images/generate", json={"prompt": "a fox"})
        assert refused.status_code == 400 and "No image backend is configured" in refused.json()["detail"]


def test_checked_request_refuses_what_no_backend_can_draw() -> None:
    with pytest.raises(ImageError, match="multiple of 8"):
        checked_request(prompt="x", width=513)
    with pytest.raises(ImageError, match="Steps must be between 1 and 150"):
        checked_request(prompt="x", steps=500)
    assert 0 <= checked_request(prompt="x").seed < 2**32  # random seed, shown after


def test_the_automatic1111_adapter_speaks_its_api(prepared) -> None:
    steps: list[Step] = []
    with a1111_server() as (url, state):
        backend = A1111Backend(url)
        assert backend.state() == (True, f"{url}: 1 model(s)")
        request = checked_request(prompt="a lighthouse", width=64, height=64, steps=12, seed=5, batch=2)
        images = backend.generate(request, steps.append, threading.Event())
        assert [image.getpixel((0, 0)) for image in images] == [seed_colour(5), seed_colour(6)]
        route, body = state.requests[-1]
        assert route == "/sdapi/v1/txt2img" and body["cfg_scale"] == 7.0 and body["batch_size"] == 2
        assert steps and steps[-1].total == 12 and any(step.preview is not None for step in steps)
        reference = Image.new("RGB", (64, 64), (250, 0, 0))
        request = checked_request(
            prompt="a lighthouse", width=64, height=64, steps=2, seed=5, reference=reference, strength=0.25
        )
        blended = backend.generate(request, steps.append, threading.Event())[0].getpixel((0, 0))
        assert state.requests[-1][0] == "/sdapi/v1/img2img" and blended[0] > 150  # the reference shows through
        cancel = threading.Event()
        timer = threading.Timer(0.3, cancel.set)
        timer.start()
        with pytest.raises(CancelledError):
            backend.generate(checked_request(prompt="slow", width=64, height=64, steps=150), steps.append, cancel)
        assert state.interrupted.is_set()
        state.garbage = True
        with pytest.raises(ImageError, match="not an image"):
            backend.generate(checked_request(prompt="x", width=64, height=64, steps=1), steps.append, threading.Event())
    down = A1111Backend(url)
    assert not down.state()[0] and "not answering" in down.state()[1]
    with pytest.raises(ImageError, match="not answering"):
        down.generate(checked_request(prompt="x", width=64, height=64, steps=1), steps.append, threading.Event())


def test_the_comfyui_adapter_queues_a_workflow_and_follows_its_websocket(prepared) -> None:
    steps: list[Step] = []
    with comfyui_server() as (url, state):
        backend = ComfyUIBackend(url)
        assert backend.models() == ["tiny.safetensors"]
        request = checked_request(prompt="a harbour", width=64, height=64, steps=6, seed=9)
        image = backend.generate(request, steps.append, threading.Event())[0]
        assert image.getpixel((0, 0)) == seed_colour(9)
        graph = state.prompts[-1]["prompt"]
        assert graph["6"]["inputs"]["text"] == "a harbour" and graph["3"]["inputs"]["steps"] == 6
        assert [step.step for step in steps if step.step] == [1, 2, 3, 4, 5, 6]
        assert any(step.preview is not None for step in steps)
        reference = Image.new("RGB", (64, 64), (0, 250, 0))
        request = checked_request(prompt="x", width=64, height=64, steps=2, seed=9, reference=reference, strength=0.25)
        assert backend.generate(request, steps.append, threading.Event())[0].getpixel((0, 0))[1] > 150
        assert state.prompts[-1]["prompt"]["10"]["inputs"]["image"] in state.uploads
        state.fail_with = "CUDA out of memory"
        with pytest.raises(ImageError, match="ComfyUI failed: CUDA out of memory"):
            backend.generate(checked_request(prompt="x", width=64, height=64, steps=2), steps.append, threading.Event())
    with socket.socket() as probe:  # a port nothing listens on: the server is down
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(ImageError, match="not answering"):
        ComfyUIBackend(down).generate(checked_request(prompt="x", width=64, height=64), steps.append, threading.Event())


def test_one_drawing_at_a_time_the_others_wait_in_order(drawing: TestClient) -> None:
    queue = jobs.image_queue()
    made = [
        queue.submit(jobs.Job(request=checked_request(prompt=f"fox {n}", width=64, height=64, steps=3), backend=""))
        for n in range(3)
    ]
    assert [queue.position(job) for job in made if job.state == "queued"][:2] in ([0, 1], [0], [])
    cancelled = queue.cancel(made[2].id)
    deadline = time.monotonic() + 60
    while not all(job.finished for job in made) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [job.state for job in made] == ["done", "done", "cancelled"] and cancelled is made[2]
    assert len(drawing.get("/api/images").json()) == 2


class _Drawer:
    """A chat model that answers with a drawing tag and keeps the system prompt it was given."""

    name = "scripted"

    def __init__(self) -> None:
        self.system = ""

    async def stream_chat(self, model, messages, *, sampling, stop):
        self.system = self.system or messages[0]["content"]  # the reply's call (the mood call comes after)
        for piece in ("Here you go. ", "[IMAGE_GEN: a lighthouse at dusk]", " Do you like it?"):
            yield piece

    async def list_models(self) -> list:
        return []

    async def count_tokens(self, model: str, text: str) -> int:
        return len(text.split())

    async def context_window(self, model: str) -> int:
        return 4096


async def _chat_reply(backend: _Drawer) -> tuple[str, str]:
    from azera.conversation.replies import generate_reply
    from azera.db.engine import session_scope
    from azera.services import chats

    with session_scope() as session:
        chat_id = chats.create_chat(session, ai_persona_id="areza").id
    events = [event async for event in generate_reply(chat_id, text="Draw me something.", backend=backend)]
    done = next(event for event in events if event.kind == "done")
    return done.reply_id, done.content


async def test_a_persona_draws_in_chat_and_the_picture_replaces_the_tag(drawing: TestClient, monkeypatch) -> None:
    from azera.db.engine import session_scope

    monkeypatch.setenv("AZERA_IMAGE_CHAT_SIZE", "64")  # the tiny model draws 64² in a blink
    monkeypatch.setenv("AZERA_IMAGE_CHAT_STEPS", "3")
    get_settings.cache_clear()
    from azera.db.models import ChatMessage, GeneratedImage, Persona

    with session_scope() as session:
        areza = session.get(Persona, "areza")
        areza.image_style = "watercolour, soft light"
        session.add(areza)
    backend = _Drawer()
    reply_id, shown = await _chat_reply(backend)
    assert "## What you can do" in backend.system and "[IMAGE_GEN: a short visual description]" in backend.system
    assert "[IMAGE_GEN" not in shown and "drawing: a lighthouse at dusk" in shown
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope() as session:
            content = session.get(ChatMessage, reply_id).content
        if "/api/images/" in content:
            break
        await asyncio.sleep(0.1)
    assert content.startswith("Here you go.") and content.endswith("Do you like it?")
    with session_scope() as session:
        picture = session.exec(select(GeneratedImage)).one()
    assert f"![a lighthouse at dusk](/api/images/{picture.id})" in content
    assert picture.prompt == "watercolour, soft light, a lighthouse at dusk" and picture.message_id == reply_id
    assert drawing.get(f"/api/images/{picture.id}").status_code == 200  # and it is in the gallery


async def test_without_a_backend_the_tag_becomes_a_note_and_the_model_is_not_told(prepared) -> None:
    backend = _Drawer()
    _, shown = await _chat_reply(backend)
    assert "IMAGE_GEN" not in backend.system
    assert "[IMAGE_GEN" not in shown and "no image backend is configured" in shown


def test_cancel_stops_an_in_process_drawing_at_its_next_step(drawing: TestClient) -> None:
    queue = jobs.image_queue()
    job = queue.submit(jobs.Job(request=checked_request(prompt="slow fox", width=64, height=64, steps=150), backend=""))
    deadline = time.monotonic() + 60
    while not job.steps_seen and time.monotonic() < deadline:
        time.sleep(0.01)
    queue.cancel(job.id)
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.state == "cancelled" and len(job.steps_seen) < 150 and job.images == []
    assert drawing.get("/api/images").json() == []  # nothing half-drawn is kept


async def test_the_canvas_page_state_draws_follows_and_refuses_bad_values(drawing: TestClient) -> None:
    from azera.state.canvas import CanvasState

    state = CanvasState()
    await type(state).load.fn(state)
    assert state.backends == ["diffusers"] and state.hint == ""
    form = {"prompt": "a harbour", "negative_prompt": "", "width": "64", "height": "64", "steps": "3",
            "cfg": "7", "batch": "1", "seed": "5"}  # fmt: skip
    events = [str(event) async for event in type(state).generate.fn(state, form)]
    assert state.job_state == "done" and state.steps_seen == "1,2,3" and state.last_seed == "5"
    assert any("Drawn (seed 5)" in event for event in events)
    assert state.gallery[0]["prompt"] == "a harbour" and "seed 5" in state.gallery[0]["settings"]
    for bad, reason in (({"width": "100"}, "multiple of 8"), ({"steps": "0"}, "between 1 and 150"),
                        ({"cfg": "-1"}, "between 0 and 30"), ({"prompt": ""}, "prompt is empty")):  # fmt: skip
        events = [str(event) async for event in type(state).generate.fn(state, {**form, **bad})]
        assert any(reason in event for event in events), (bad, events)
    assert [str(e) async for e in type(state).generate.fn(state, "not a form")]  # refused, not a crash


def test_a_single_file_checkpoint_is_read_as_sd15_or_sdxl_by_its_keys(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from azera.images.diffusers_backend import is_sdxl_checkpoint

    save_file({"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(1)}, tmp_path / "sd15.safetensors")
    save_file({"conditioner.embedders.1.model.ln_final.weight": torch.zeros(1)}, tmp_path / "sdxl.safetensors")
    assert not is_sdxl_checkpoint(tmp_path / "sd15.safetensors")
    assert is_sdxl_checkpoint(tmp_path / "sdxl.safetensors")
