"""A small fake Ollama server on 127.0.0.1 that speaks the real HTTP protocol.

It serves `/api/chat` (streamed NDJSON or one JSON object), `/api/show`,
`/api/tags` and `/api/version`, answers 404 `{"error": "model 'x' not found"}`
for unknown models, and records every request. Models are "created" from a
Modelfile like `ollama create` does; the chat template is then rendered the way
Ollama renders it (Go `text/template`, the subset our Modelfile uses), so a test
can read the exact prompt the model would have seen in `server.prompts`.

Failure modes, set on the running server: `mode = "error"` (an `{"error": ...}`
line mid-stream), `"drop"` (the connection closes mid-stream), `"no-done"`
(the stream ends cleanly without its `done: true` line); `token_delay_s` slows
each line; `stall_s` delays the response headers.

>>> with FakeOllama() as server:                      # doctest: +SKIP
...     server.create("rag-qwen", Path("Modelfile").read_text())
...     Settings(llm="ollama", ollama_host=server.host)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = "Poutine s'est entretenu avec le pape Léon XIV [1]."
VERSION = "0.12.6"


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    body: dict[str, Any]


@dataclass
class FakeModel:
    """What `ollama create` keeps of a Modelfile."""

    name: str
    template: str = "{{ .Prompt }}"
    system: str = ""
    parameters: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""


# ---------------------------------------------------------------- Modelfile


def parse_modelfile(text: str) -> list[tuple[str, str]]:
    """(COMMAND, value) pairs; `\"\"\"` values span lines and are kept verbatim, as Ollama's parser does."""
    commands: list[tuple[str, str]] = []
    pos = 0
    line = re.compile(r"[ \t]*(?:#[^\n]*)?\n|[ \t]*([A-Za-z]+)[ \t]+")
    while pos < len(text):
        m = line.match(text, pos)
        if m is None:
            raise ValueError(f"cannot parse the Modelfile at: {text[pos:pos + 40]!r}")
        pos = m.end()
        if not m.group(1):
            continue
        name = m.group(1).upper()
        if name == "PARAMETER":
            key = re.match(r"(\w+)[ \t]+", text[pos:])
            if key is None:
                raise ValueError("PARAMETER needs a name and a value")
            name, pos = f"PARAMETER {key.group(1)}", pos + key.end()
        if text.startswith('"""', pos):
            end = text.index('"""', pos + 3)
            value, pos = text[pos + 3 : end], end + 3
        else:
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            value, pos = text[pos:end].strip(), end
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
        commands.append((name, value))
    if not any(name == "FROM" for name, _ in commands):
        raise ValueError("no FROM line")
    return commands


def model_from_modelfile(name: str, text: str) -> FakeModel:
    model = FakeModel(name=name)
    for command, value in parse_modelfile(text):
        if command == "FROM":
            model.source = value
        elif command == "TEMPLATE":
            model.template = value
        elif command == "SYSTEM":
            model.system = value
        elif command.startswith("PARAMETER "):
            model.parameters.setdefault(command.split()[1], []).append(value)
    return model


# ---------------------------------------------------- Go text/template subset

_ACTION = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.S)
_ARG = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')


def _parse_template(source: str) -> list[Any]:
    """Text and actions into a tree: str | ("out", expr) | ("if", [(cond, body)], else) | ("range", expr, body)."""
    pieces: list[Any] = []
    pos = 0
    for m in _ACTION.finditer(source):
        text = source[pos : m.start()]
        if m.group(1):
            text = text.rstrip()
        if pieces and isinstance(pieces[-1], tuple) and pieces[-1][0] == "trim":
            text = text.lstrip()
            pieces.pop()
        pieces.append(text)
        pieces.append(("action", m.group(2)))
        if m.group(3):
            pieces.append(("trim",))
        pos = m.end()
    tail = source[pos:]
    if pieces and isinstance(pieces[-1], tuple) and pieces[-1][0] == "trim":
        tail = tail.lstrip()
        pieces.pop()
    pieces.append(tail)
    tree, rest = _block(pieces, 0)
    if rest != len(pieces):
        raise ValueError("unbalanced {{ end }} in template")
    return tree


def _block(pieces: list[Any], i: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(pieces):
        piece = pieces[i]
        if isinstance(piece, str):
            out.append(piece)
            i += 1
            continue
        action: str = piece[1]
        word = action.split(" ", 1)[0]
        if word in ("end", "else"):
            return out, i
        if word == "if":
            branches: list[tuple[str, list[Any]]] = []
            cond = action[3:]
            otherwise: list[Any] = []
            while True:
                body, i = _block(pieces, i + 1)
                branches.append((cond, body))
                closing = pieces[i][1]
                if closing.startswith("else if "):
                    cond = closing[8:]
                    continue
                if closing == "else":
                    otherwise, i = _block(pieces, i + 1)
                break
            out.append(("if", branches, otherwise))
            i += 1
        elif word == "range":
            body, i = _block(pieces, i + 1)
            out.append(("range", action[6:], body))
            i += 1
        else:
            out.append(("out", action))
            i += 1
    return out, i


def _value(token: str, dot: Any, root: dict[str, Any]) -> Any:
    if token.startswith('"'):
        return json.loads(token)
    if token == ".":
        return dot
    if token.startswith("$."):
        return root.get(token[2:], "")
    if token.startswith("."):
        return dot.get(token[1:], "") if isinstance(dot, dict) else ""
    raise ValueError(f"the fake Ollama does not support {token!r} in templates")


def _eval(expr: str, dot: Any, root: dict[str, Any]) -> Any:
    args = _ARG.findall(expr)
    functions: dict[str, Callable[..., Any]] = {
        "eq": lambda a, *b: any(a == x for x in b),
        "ne": lambda a, b: a != b,
        "not": lambda a: not a,
        "and": lambda *a: all(a),
        "or": lambda *a: any(a),
    }
    if args and args[0] in functions:
        return functions[args[0]](*(_value(a, dot, root) for a in args[1:]))
    if len(args) != 1:
        raise ValueError(f"the fake Ollama does not support {expr!r} in templates")
    return _value(args[0], dot, root)


def _run(tree: list[Any], dot: Any, root: dict[str, Any]) -> str:
    out: list[str] = []
    for node in tree:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "out":
            out.append(str(_eval(node[1], dot, root)))
        elif node[0] == "if":
            for cond, body in node[1]:
                if _eval(cond, dot, root):
                    out.append(_run(body, dot, root))
                    break
            else:
                out.append(_run(node[2], dot, root))
        elif node[0] == "range":
            for item in _eval(node[1], dot, root) or []:
                out.append(_run(node[2], item, root))
    return "".join(out)


def render(template: str, values: dict[str, Any]) -> str:
    """Execute a Go template (fields, if/else if/else, range, eq/ne/not/and/or, trim markers)."""
    return _run(_parse_template(template), values, values)


def chat_prompt(model: FakeModel, messages: list[dict[str, Any]]) -> str:
    """The prompt Ollama builds for /api/chat: SYSTEM default, collated messages, template."""
    msgs = [dict(m) for m in messages]
    if model.system and (not msgs or msgs[0].get("role") != "system"):
        msgs.insert(0, {"role": "system", "content": model.system})
    system = "\n\n".join(str(m.get("content", "")) for m in msgs if m.get("role") == "system")
    collated: list[dict[str, Any]] = []
    for m in msgs:  # consecutive messages of one role are merged, as Ollama does
        if collated and collated[-1]["Role"] == m.get("role") and m.get("role") != "tool":
            collated[-1]["Content"] += "\n\n" + str(m.get("content", ""))
        else:
            collated.append({"Role": m.get("role"), "Content": str(m.get("content", ""))})
    return render(model.template, {"System": system, "Messages": collated, "Response": "", "Prompt": ""})


# ------------------------------------------------------------------- server


class FakeOllama:
    """The server; use it as a context manager (it always stops), or `start()` / `stop()`."""

    def __init__(self, *, reply: str | Callable[[list[dict[str, Any]]], str] = REPLY) -> None:
        self.reply = reply
        self.mode = "ok"
        self.token_delay_s = 0.0
        self.stall_s = 0.0
        self.models: dict[str, FakeModel] = {}
        self.requests: list[Request] = []
        self.prompts: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def create(self, name: str, modelfile: str) -> FakeModel:
        """What `ollama create NAME -f Modelfile` does, minus the weights."""
        model = model_from_modelfile(_full_name(name), modelfile)
        self.models[model.name] = model
        return model

    def add(self, name: str, **kwargs: Any) -> FakeModel:
        model = FakeModel(name=_full_name(name), **kwargs)
        self.models[model.name] = model
        return model

    def chats(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == "/api/chat"]

    def start(self) -> FakeOllama:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are sleeping in a slow mode
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def answer_for(self, messages: list[dict[str, Any]]) -> str:
        return self.reply(messages) if callable(self.reply) else self.reply


def _full_name(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOllama
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing
    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        return body if isinstance(body, dict) else {"_body": body}

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _model(self, body: dict[str, Any]) -> FakeModel | None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.models.get(_full_name(name)) if name else None
        if model is None:
            self._json(404, {"error": f"model '{name}' not found"})
        return model

    # -- routes
    def do_GET(self) -> None:
        self.fake.record(Request("GET", self.path, {}))
        if self.path == "/api/version":
            self._json(200, {"version": VERSION})
        elif self.path == "/api/tags":
            self._json(200, {"models": [_tag(m) for m in self.fake.models.values()]})
        elif self.path == "/":
            self._json(200, {"status": "Ollama is running"})
        else:
            self._json(404, {"error": "404 page not found"})

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self._body()
        self.fake.record(Request("POST", self.path, body))
        try:
            self._post(body)
        except (BrokenPipeError, ConnectionResetError):  # the client hung up (a timeout on its side)
            self.close_connection = True

    def _post(self, body: dict[str, Any]) -> None:
        if self.path == "/api/show":
            model = self._model(body)
            if model is not None:
                self._json(200, _show(model))
        elif self.path == "/api/chat":
            self._chat(body)
        else:
            self._json(404, {"error": "404 page not found"})

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.fake
        fake.sleep(fake.stall_s)
        model = self._model(body)
        if model is None:
            return
        messages = list(body.get("messages") or [])
        prompt = chat_prompt(model, messages)
        with fake._lock:
            fake.prompts.append(prompt)
        options = body.get("options") or {}
        text = fake.answer_for(messages)
        for stop in list(options.get("stop") or []) + model.parameters.get("stop", []):
            text = text.split(stop)[0]
        tokens = re.findall(r"\S+\s*|\s+", text)
        reason = "stop"
        limit = int(options.get("num_predict", -1))
        if 0 <= limit < len(tokens):
            tokens, reason = tokens[:limit], "length"
        head = {"model": model.name, "created_at": _now()}
        final: dict[str, Any] = {
            **head,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reason,
            "total_duration": 5_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": len(prompt.split()),
            "prompt_eval_duration": 2_000_000,
            "eval_count": len(tokens),
            "eval_duration": 2_000_000,
        }
        if body.get("stream") is False:
            final["message"]["content"] = "".join(tokens)
            self._json(200, final)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._stream(tokens, head, final)

    def _stream(self, tokens: list[str], head: dict[str, Any], final: dict[str, Any]) -> None:
        fake = self.fake
        for i, token in enumerate(tokens):
            if i == len(tokens) // 2 and fake.mode in ("error", "drop"):
                if fake.mode == "error":
                    self._chunk({"error": "an error was encountered while running the model: unexpected EOF"})
                    self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True
                return
            fake.sleep(fake.token_delay_s)
            self._chunk({**head, "message": {"role": "assistant", "content": token}, "done": False})
        if fake.mode != "no-done":
            self._chunk(final)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _details(model: FakeModel) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": "qwen2",
        "families": ["qwen2"],
        "parameter_size": "1.5B",
        "quantization_level": "Q4_K_M",
    }


def _tag(model: FakeModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "model": model.name,
        "modified_at": "2025-01-01T00:00:00Z",
        "size": 1_117_320_768,
        "digest": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "details": _details(model),
    }


def _show(model: FakeModel) -> dict[str, Any]:
    lines = [f"{key:<30} {value if value.isdigit() else json.dumps(value)}" for key, values in model.parameters.items()
             for value in values]
    parameters = "\n".join(lines)
    return {
        "modelfile": f"FROM {model.source}\nTEMPLATE \"\"\"{model.template}\"\"\"\n",
        "parameters": parameters,
        "template": model.template,
        "system": model.system,
        "details": _details(model),
        "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768},
        "capabilities": ["completion"],
        "modified_at": "2025-01-01T00:00:00Z",
    }
