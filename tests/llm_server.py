"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol with scripted
replies: the request's "model" names the script. Replies cite passages by finding, in the prompt's
numbered passages, the one that holds a given text ("{n:拆迁3000户}" → that passage's number).

Used by tests/test_llm.py and tests/test_browser.py, and by scripts/bench_llm.py; run alone
(`python tests/llm_server.py PORT`) it serves until stopped.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRIPTS = {
    "correct": "2019年计划拆迁3000户{n:拆迁3000户}，新建安置房50万平方米{n:拆迁3000户}。",
    "fabricated": "2019年计划拆迁3500户{n:拆迁3000户}。",
    "bad-citation": "2019年计划拆迁3000户[7]。",
    "refusal": "资料中未找到。",
    "wrong-script": "2019年計劃拆遷3000戶{n:拆迁3000户}，新建安置房50萬平方米{n:拆迁3000户}。",
    "english": "The plan for 2019 was to relocate 3000 households{n:拆迁3000户}.",
    "mixed": "2019年计划拆迁3000户{n:拆迁3000户}，新建安置房80万平方米{n:拆迁3000户}。",
    "uncited": "2019年计划拆迁3000户。",
    "slow": "2019年计划拆迁3000户{n:拆迁3000户}。",
    "error-500": None,
    "broken": "2019年计划拆迁3000户{n:拆迁3000户}，新建安置房",
    "malformed": None,
    "silent": None,
    "echo": None,
    "chunked": "2019年计划拆迁3000户{n:拆迁3000户}。",  # sent with Transfer-Encoding: chunked, as vLLM does
}
CHUNK = 3  # characters per streamed event
PAUSE = {"slow": 0.4, "mixed": 0.12}  # seconds between events
REF = re.compile(r"\{n:([^}]+)\}")
PASSAGE = re.compile(r"^\[(\d+)\] ", re.M)


def cite(prompt: str, needle: str) -> str:
    """"[n]" for the passage of prompt whose text holds needle; "[9]" when none does."""
    starts = [(m.start(), m.group(1)) for m in PASSAGE.finditer(prompt)] + [(len(prompt), "")]
    for (a, n), (b, _) in zip(starts, starts[1:]):
        if needle in prompt[a:b]:
            return f"[{n}]"
    return "[9]"


REWRITTEN = "2020年城中村改造计划拆迁多少户？"  # the scripted model's stand-alone form of any follow-up


def reply_for(script: str, messages: list[dict]) -> str:
    prompt = messages[-1]["content"] if messages else ""
    if messages and "不依赖上文" in messages[0]["content"]:  # asked to rewrite a follow-up
        return REWRITTEN
    if script == "echo":  # the whole prompt back, so tests can read what the model was shown
        return json.dumps(messages, ensure_ascii=False)
    return REF.sub(lambda m: cite(prompt, m.group(1)), SCRIPTS.get(script) or "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": "correct", "object": "model"}]})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        record = {"body": body, "headers": dict(self.headers)}
        self.server.requests.append(record)
        script = body.get("model", "")
        if script == "error-500":
            return self._send(500, {"error": {"message": "internal error (scripted)"}})
        if script == "silent":  # accepts and never answers
            time.sleep(30)
            return
        text = reply_for(script, body.get("messages", []))
        if not body.get("stream"):
            return self._send(200, {"id": "x", "object": "chat.completion", "model": script,
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": text}}]})
        self.chunked = script == "chunked"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if script == "malformed":
                self._event('{"choices": [{"delta": {"content": "2019年"')  # cut JSON
                return
            for i in range(0, len(text), CHUNK):
                if i == 0:
                    record["first_token_at"] = time.time()  # for scripts/bench_llm_app.py
                self._event(json.dumps({"choices": [{"index": 0, "delta": {"content": text[i:i + CHUNK]},
                                                     "finish_reason": None}]}, ensure_ascii=False))
                time.sleep(PAUSE.get(script, 0.0))
            if script == "broken":  # the connection drops before the answer is finished
                return
            self._event(json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
            self._event("[DONE]")
            if self.chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.close_connection = True

    def _event(self, data: str):
        raw = f"data: {data}\n\n".encode()
        if getattr(self, "chunked", False):  # two chunks per event, so lines straddle chunk borders
            half = len(raw) // 2
            raw = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (raw[:half], raw[half:]))
        self.wfile.write(raw)
        self.wfile.flush()

    def _send(self, status: int, payload: dict):
        raw = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def start(port: int = 0) -> ThreadingHTTPServer:
    """The server, serving on 127.0.0.1 in a daemon thread; .url is its base URL (…/v1)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.requests = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    srv = start(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(srv.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.shutdown()
