"""A local server that speaks ComfyUI's HTTP and websocket API, for the adapter's tests.

No weights install on the build machines. This follows ComfyUI's server: ``/object_info/<node>``,
``POST /upload/image`` (multipart), ``POST /prompt`` (``{prompt, client_id}`` → ``prompt_id``; a graph
without a sampler is refused with ``node_errors``), the websocket ``/ws?clientId=`` (``status``,
``execution_start``, ``progress`` value/max, binary preview frames, ``executing`` with ``node: null`` when
done, ``execution_error``), ``/history/{id}``, ``/view`` and ``/interrupt``. A run takes 0.05 s per step
and paints the seed's colour; with a LoadImage node it blends the uploaded picture toward it by ``denoise``.
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.a1111_server import seed_colour

STEP_SECONDS = 0.05


class ComfyState:
    """Uploads, outputs, history, open websockets and what was asked."""

    def __init__(self) -> None:
        self.uploads: dict[str, bytes] = {}
        self.outputs: dict[str, bytes] = {}
        self.history: dict[str, dict] = {}
        self.sockets: dict[str, WebSocket] = {}
        self.prompts: list[dict] = []
        self.interrupted = False
        self.fail_with = ""  # an execution_error message to send instead of drawing


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build_app(state: ComfyState) -> Starlette:
    """The server's routes."""

    async def object_info(request: Request) -> JSONResponse:
        if request.path_params["node"] != "CheckpointLoaderSimple":
            return JSONResponse({})
        return JSONResponse(
            {"CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [["tiny.safetensors"], {}]}}}}
        )

    async def upload(request: Request) -> JSONResponse:
        form = await request.form()
        image = form["image"]
        state.uploads[image.filename] = await image.read()
        return JSONResponse({"name": image.filename, "subfolder": "", "type": "input"})

    async def run(prompt_id: str, client: str, graph: dict) -> None:
        send = state.sockets.get(client)
        sampler = graph["3"]["inputs"]
        steps, seed, denoise = sampler["steps"], sampler["seed"], sampler.get("denoise", 1.0)
        await send.send_json({"type": "execution_start", "data": {"prompt_id": prompt_id}})
        if state.fail_with:
            await send.send_json(
                {"type": "execution_error", "data": {"prompt_id": prompt_id, "exception_message": state.fail_with}}
            )
            return
        for step in range(1, steps + 1):
            if state.interrupted:
                await send.send_json({"type": "execution_interrupted", "data": {"prompt_id": prompt_id}})
                return
            await asyncio.sleep(STEP_SECONDS)
            await send.send_json(
                {"type": "progress", "data": {"value": step, "max": steps, "prompt_id": prompt_id, "node": "3"}}
            )
            await send.send_bytes(struct.pack(">II", 1, 2) + _png(Image.new("RGB", (8, 8), (step, step, step))))
        latent = graph.get("5", {}).get("inputs", {})
        width, height = latent.get("width", 64), latent.get("height", 64)
        paint = Image.new("RGB", (width, height), seed_colour(seed))
        if "10" in graph:
            init = Image.open(io.BytesIO(state.uploads[graph["10"]["inputs"]["image"]])).convert("RGB")
            paint = Image.blend(init, Image.new("RGB", init.size, seed_colour(seed)), denoise)
        name = f"azera_{len(state.outputs):05}_.png"
        state.outputs[name] = _png(paint)
        state.history[prompt_id] = {
            "prompt": [0, prompt_id, graph, {}, ["9"]],
            "outputs": {"9": {"images": [{"filename": name, "subfolder": "", "type": "output"}]}},
            "status": {"status_str": "success", "completed": True, "messages": []},
        }
        await send.send_json({"type": "executing", "data": {"node": None, "prompt_id": prompt_id}})

    async def queue_prompt(request: Request) -> JSONResponse:
        body = await request.json()
        graph, client = body.get("prompt"), body.get("client_id", "")
        state.prompts.append(body)
        if not isinstance(graph, dict) or "3" not in graph or graph["3"].get("class_type") != "KSampler":
            error = {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}
            return JSONResponse({"error": error, "node_errors": {}}, status_code=400)
        prompt_id = str(uuid.uuid4())
        state.interrupted = False
        asyncio.get_running_loop().create_task(run(prompt_id, client, graph))
        return JSONResponse({"prompt_id": prompt_id, "number": len(state.prompts), "node_errors": {}})

    async def history(request: Request) -> JSONResponse:
        prompt_id = request.path_params["prompt_id"]
        return JSONResponse({prompt_id: state.history[prompt_id]} if prompt_id in state.history else {})

    async def view(request: Request) -> Response:
        data = state.outputs.get(request.query_params.get("filename", ""))
        return Response(data, media_type="image/png") if data else Response(status_code=404)

    async def interrupt(request: Request) -> Response:
        state.interrupted = True
        return Response(status_code=200)

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        client = websocket.query_params.get("clientId", "")
        state.sockets[client] = websocket
        await websocket.send_json(
            {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": client}}
        )
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            state.sockets.pop(client, None)

    return Starlette(
        routes=[
            Route("/object_info/{node}", object_info),
            Route("/upload/image", upload, methods=["POST"]),
            Route("/prompt", queue_prompt, methods=["POST"]),
            Route("/history/{prompt_id}", history),
            Route("/view", view),
            Route("/interrupt", interrupt, methods=["POST"]),
            WebSocketRoute("/ws", ws),
        ]
    )


@contextmanager
def comfyui_server() -> Iterator[tuple[str, ComfyState]]:
    """Run the server (uvicorn, in a thread) on a free loopback port."""
    import uvicorn

    state = ComfyState()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        server.should_exit = True
        thread.join(5)
