#!/usr/bin/env python3
"""Writes the hand-made seeds of every fuzz target into fuzz/corpus/<target>/.

Each seed is a real frame or body: the examples of PROTOCOL.md, the frames and upstream
bodies the relay's tests use, and the edge cases those documents name. File names are the
SHA-1 of the content, as libFuzzer names what it adds, so re-running is idempotent.
"""
import hashlib
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def j(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- client_frame: text frames from a browser (PROTOCOL.md, relay tests) ------------------
CLIENT = [
    '{"type":"ping"}',
    '{"type":"ping","data":{}}',
    '{"type":"ping","data":null}',
    '{"type":"ping","data":{"ts":1234}}',
    '{"type":"ping","data":{"t":5}}',
    # performance.now() timestamps are fractional: the pong must echo them exactly.
    '{"type":"ping","data":{"t":1764672000123.4567}}',
    '{"type":"ping","data":{"t":0.1,"u":-2.5e-308,"v":1.7976931348623157e308}}',
    '{"type":"ping","data":[1,"two",true,null,{"x":-0.5e-3}]}',
    '{"type":"ping","data":"text"}',
    '{"type":"chat_message","data":{"message":"Hi","conversation_id":"conv_1","client_message_id":"c-1"}}',
    '{"type":"chat_message","data":{"message":"hi"}}',
    '{"data":{"message":"hi"},"type":"chat_message"}',
    '{"type":"chat_message","data":{"message":"Say hello","conversation_id":"conv_sse","client_message_id":"c-1"},"extra":1}',
    '{"type":"chat_message","data":{"message":"  "}}',
    '{"type":"chat_message","data":{"message":""}}',
    '{"type":"chat_message","data":{}}',
    '{"type":"chat_message"}',
    '{"type":"chat_message","data":null}',
    '{"type":"chat_message","data":{"message":"hi","client_message_id":""}}',
    '{"type":"chat_message","data":{"message":"hi","conversation_id":"' + "c" * 129 + '"}}',
    '{"type":"chat_message","data":{"message":"hi","conversation_id":"' + "c" * 128 + '"}}',
    '{"type":"chat_message","data":{"message":"caf\\u00e9 \\ud83d\\ude00 \\"quoted\\"\\n"}}',
    '{"type":"chat_message","data":{"message":5}}',
    '{"type":"chat_message","data":{"message":"hi","message":"again"}}',
    '{"type":"cancel","data":{"message_id":"m1"}}',
    '{"type":"cancel","data":{"message_id":"my-id-1"}}',
    '{"type":"cancel","data":{}}',
    '{"type":"resume","data":{"message_id":"msg_1","offset":3}}',
    '{"type":"resume","data":{"client_message_id":"c-1","offset":7}}',
    '{"type":"resume","data":{"conversation_id":"conv_1"}}',
    '{"type":"resume","data":{"offset":3}}',
    '{"type":"resume","data":{"message_id":"m","offset":-1}}',
    '{"type":"resume","data":{"message_id":"m","offset":18446744073709551615}}',
    '{"type":"resume","data":{"message_id":"m","offset":18446744073709551616}}',
    '{"type":"resume","data":{"message_id":"m","offset":1.5}}',
    '{"type":"subscribe","data":{}}',
    '{"type":"' + "x" * 200 + '"}',
    '{"type":5}',
    '{"type":"ping","type":"cancel"}',
    '{}',
    '[1,2]',
    'not json',
    '{"type":"ping","data":' + "[" * 200 + "]" * 200 + '}',
]

# --- sse_stream: byte 0 picks the limit ('M': 1 MiB; below 0x40 small), byte 1 the cuts ----
def content(text):
    return "data: " + j({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}) + "\n\n"


def reasoning(text):
    return "data: " + j({"choices": [{"index": 0, "delta": {"content": None, "reasoning_content": text}, "finish_reason": None}]}) + "\n\n"


def finish(reason):
    return "data: " + j({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}) + "\n\n"


USAGE = "data: " + j({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}) + "\n\n"
DONE = "data: [DONE]\n\n"
ANSWER = content("Hel") + content("lo!") + finish("stop") + USAGE + DONE

SSE = [
    ("M", "a", ANSWER),
    ("M", "b", ": keep-alive\r\n\r\n\n" + reasoning("Let me ") + reasoning("think.")
     + 'data: {"choices":[{"delta":{"content":"Hel"},"finish_reason":null}]}\r\n\r\n'
     + ": keep-alive\n\n" + content("lo!") + "data: " + j({"choices": None}) + "\n\n"
     + finish("stop") + USAGE + DONE),
    ("M", "c", "\ufeffdata: a\rdata:b\r\nevent: x\nid: 7\n\ndata\n\ndata:  two spaces\n\n"),
    ("M", "d", "data: x\r\n\r\n"),
    ("M", "e", "data: done\n\ndata: half"),
    ("M", "f", "data: ok\n\n"),
    ("M", "g", content("Fine so far").encode() + b'data: {"choices":[{"delta":{"content":"\xff\xfe"}}]}\n\n' + content(" and never shown").encode()),
    ("M", "h", content("Fine") + 'data: {"choices":[{"delta":{"content":" a lost token"\n\n' + finish("stop")),
    ("M", "i", "data: [1, 2\n\n"),
    ("M", "j", "data: {\"error\":{\"message\":\"key sk-secret\",\"type\":\"server_error\"}}\n\n"),
    ("M", "k", "data: {}\n\ndata: {}\n\n" + DONE),
    ("M", "l", "retry: 1000\nevent: message\nid: 1\ndata: {\"choices\":[]}\n\n"),
    ("M", "m", "data: multi\ndata: line\ndata:\n\n"),
    ("M", "n", "\r\r\n\n\r:\r\n"),
    ("M", "o", "data: caf\u00e9 \U0001F600\n\n"),
    ("M", "p", "data: " + "x" * 2000 + "\n\n"),
    ("\x00", "q", "data: x\n\n"),             # limit 1: every line is too long
    ("\x02", "r", "data: ab\n\n"),            # limit 9
    ("\x03", "s", "data: 0123456789\n" * 4),  # limit 13: the event's data grows past it
    ("\x10", "t", "x" * 100),                 # limit 65, no line end ever
    ("\x20", "u", ANSWER),                    # limit 129
    ("\x3f", "v", ": " + "k" * 300 + "\n\ndata: y\n\n"),  # limit 253
]

# --- openai_chunk: one event's data, or a whole chat.completion body ------------------------
CHUNKS = [
    j({"id": "930c60df-bf64-41c9-a88e-3ec75f81e00e", "object": "chat.completion.chunk", "created": 1718345013, "model": "deepseek-chat", "system_fingerprint": "fp_a49d71b8a1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}]}),
    j({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]}),
    j({"choices": [{"index": 0, "delta": {"content": None, "reasoning_content": "The user greets."}, "finish_reason": None}]}),
    j({"choices": [{"delta": {"reasoning": "hmm"}}]}),
    j({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    j({"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "length"}], "usage": None}),
    j({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 5, "completion_tokens_details": {"reasoning_tokens": 1}}}),
    j({"choices": None, "usage": None}),
    j({"choices": [{"delta": {}, "finish_reason": "stop"}], "extra": 1}),
    j({"choices": [{"delta": {"content": "a"}}, {"delta": {"content": "b"}}]}),
    j({"choices": [{"delta": None, "message": {"content": "m"}}]}),
    j({"error": {"message": "internal detail: prompt was 'top secret plans'", "type": "x"}}),
    j({"error": None, "choices": []}),
    j({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}], "usage": {"total_tokens": 2}}),
    j({"choices": [{"delta": {"content": 5}}]}),
    j({"choices": [{"delta": {"content": "caf\u00e9 \U0001F600\n\"q\""}}]}),
    j({"usage": {"total_tokens": 1.5e3, "cost": 0.000123}}),
    "[DONE]",
    " [DONE] \n",
    "[DONE]x",
    "",
    "{oops",
    "[1, 2",
    '{"choices":[{"delta":{"content":"multi\nline"}}]}',
]

# --- protocol_roundtrip: 'S'/'C'/'E' + JSON text, or bytes for frames built field by field --
SERVER = [
    '{"type":"reasoning_token","data":{"message_id":"msg_3f2a9c0d1b7e4a55","token":"The user greets.","seq":0,"offset":1}}',
    '{"type":"stream_token","data":{"message_id":"msg_3f2a9c0d1b7e4a55","token":"Hello","seq":0,"offset":2}}',
    '{"type":"stream_token","data":{"message_id":"msg_3f2a9c0d1b7e4a55","token":"Hel\\"lo","seq":1,"offset":3}}',
    '{"type":"stream_complete","data":{"message_id":"msg_3f2a9c0d1b7e4a55","conversation_id":"conv_1","client_message_id":"c-1","content":"Hello!","finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7},"offset":4}}',
    '{"type":"stream_complete","data":{"message_id":"m","conversation_id":"c","content":"hi","finish_reason":"length","usage":null,"offset":2}}',
    '{"type":"chat_message","data":{"message_id":"m","role":"assistant","content":"Whole answer","conversation_id":"c","offset":1}}',
    '{"type":"error","data":{"code":"cancelled","message":"The reply was cancelled.","message_id":"m","client_message_id":"c-1","retryable":false,"offset":3}}',
    '{"type":"error","data":{"code":"busy","message":"This conversation is still answering; cancel it or wait for it to finish.","retryable":true}}',
    '{"type":"pong","data":{}}',
    '{"type":"pong","data":{"t":1764672000123.4567}}',
    '{"type":"resumed","data":{"message_id":"m","client_message_id":"c-1","conversation_id":"conv_1","offset":12,"recovered":true}}',
    '{"type":"resumed","data":{"conversation_id":"conv_1","offset":0,"recovered":false}}',
]
PROTOCOL = [b"S" + s.encode() for s in SERVER]
PROTOCOL += [b"C" + s.encode() for s in CLIENT[:12] + CLIENT[24:31]]
PROTOCOL += [b"E" + j(c).encode() for c in ["bad_frame", "stream_expired", "upstream_unavailable", "Busy"]]
# Structured mode: the bytes themselves choose the fields.
PROTOCOL += [b"\x00" + bytes(range(i, i + 64)) for i in (0, 64, 128, 192)]
PROTOCOL += [b"\x01" + b"\xff" * 64, b"\x02" + b"hello world, a chatwire frame" * 3]


# --- core_frame: server text frames as the browser client receives them -----------------
# Every frame of SERVER and PROTOCOL.md's examples, and what the client must call a bad frame
# or an unknown type.
CORE_FRAME = SERVER + [
    '{"type":"reasoning_token","data":{"message_id":"msg_3f2a9c0d1b7e4a55","token":"The user greets.","seq":0,"offset":1}}',
    '{"type":"stream_token","data":{"message_id":"msg_3f2a9c0d1b7e4a55","client_message_id":"c-1","token":"Hello","seq":0,"offset":1}}',
    '{"type":"stream_complete","data":{"message_id":"msg_3f2a9c0d1b7e4a55","conversation_id":"conv_1","client_message_id":"c-1","content":"Hello!","finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7},"offset":4}}',
    '{"type":"error","data":{"code":"stream_expired","message":"The reply can no longer be resumed: the relay no longer keeps its frames.","message_id":"msg_0b7e4a553f2a9c0d","client_message_id":"c-0","retryable":false}}',
    '{"type":"future_frame","data":{}}',
    '{"type":"Pong","data":{}}',
    '{"type":" pong","data":{}}',
    '{"type":"pong\\u0000","data":{}}',
    '{"type":"","data":{}}',
    '{"type":null,"data":{}}',
    '{"type":7}',
    '{"type":["pong"]}',
    '{"type":{"pong":1}}',
    '{"data":{"token":"x"}}',
    '{"type":"pong","type":"stream_token"}',
    '["pong",{}]',
    '"pong"',
    '42',
    'null',
    '{"type":"stream_token"',
    '',
    '{"type":"pong","data":{"\\udccc":1}}',
]

# --- core_generations: byte 0 odd = an honest relay, even = a hostile server --------------
# Honest ops: 0 chat(conv) 1 emit(gen, kind: 0-4 token, 5 reasoning, 6-7 end)
# 2 stale(gen, back) 3 drop 4 reconnect(expired bits) 5 reload 6 resume again(gen)
# 7 burst(gen, n tokens).
# Hostile ops: 0 expect(conv) 1 expect_conversation(conv) 2 token(m, offset, flags)
# 3 finish(ids, offset) 4 resumed(ids, conv<<1 | recovered) 5 clear 6 burst(m, start, n) 7 -
GENERATIONS = [
    # A reply streams and ends.
    [1, 0, 0, 7, 0, 5, 1, 0, 6],
    # Reasoning, tokens, a drop mid-reply, more tokens while away, the resume, the end.
    [1, 0, 0, 1, 0, 5, 7, 0, 3, 3, 7, 0, 4, 4, 0, 1, 0, 6],
    # Two conversations, a stale frame, a drop; the first expired at the relay.
    [1, 0, 0, 0, 1, 7, 0, 3, 7, 1, 2, 2, 0, 1, 3, 4, 1, 1, 1, 6],
    # A page reload mid-reply: resumed by conversation from offset 0.
    [1, 0, 0, 7, 0, 3, 5, 7, 0, 2, 4, 0, 1, 0, 6],
    # A drop before the first token: resumed by client message id.
    [1, 0, 0, 3, 7, 0, 2, 4, 0, 1, 0, 7],
    # A resume for the reply the socket is already receiving.
    [1, 0, 0, 7, 0, 2, 6, 0, 1, 0, 0, 1, 0, 6],
    # The reply ends during a reload: nothing running, nothing lost.
    [1, 0, 2, 7, 0, 2, 5, 1, 0, 6, 4, 0],
    # A reload, and the reply aborted meanwhile.
    [1, 0, 0, 7, 0, 2, 5, 4, 1],
    # Hostile: linked by the first token, a duplicate, the end.
    [0, 0, 0, 2, 0, 2, 2, 2, 0, 3, 0, 2, 0, 3, 0, 3, 8, 4],
    # Hostile: more chats than MAX_IN_FLIGHT.
    [0] + [0, 3] * 34 + [3, 8, 0],
    # Hostile: a resume joins an entry tracked by message id with the chat's.
    [0, 0, 0, 6, 1, 2, 5, 4, 9, 1, 3, 9, 0],
    # Hostile: offsets at u64::MAX, and none.
    [0, 2, 0, 255, 0, 2, 0, 255, 0, 2, 0, 0, 0, 3, 0, 255],
    # Hostile: not recovered, by message id then by client message id.
    [0, 0, 0, 6, 0, 1, 4, 4, 0, 0, 4, 8, 0],
    # Hostile: a conversation resumed, then frames and an end.
    [0, 1, 0, 4, 4, 1, 2, 0, 1, 0, 3, 0, 0],
]

# --- core_endpoint: base URL 0xFF session id 0xFF token ------------------------------------
ENDPOINT = [
    ("ws://localhost:8000", "session_123", "abc"),
    ("wss://chat.example/api", "s", "t"),
    ("http://h:9/api/", "s", "t"),
    ("https://chat.example:443/", "a b/c?", "x+y=z&\u00e9"),
    ("ws://h/", "-_.!~*'()", ""),
    ("ws://[::1]:8000/", "#frag", "a&b=c#d"),
    ("http://127.0.0.1:8000", "\U0001F600", "line\nbreak"),
    ("ws://b\u00fccher.example/chat", "%2F", "%"),
    ("ftp://h/", "s", "t"),
    ("ws://u:p@h/", "s", "t"),
    ("ws://h/?x=1", "s", "t"),
    ("ws://h/#f", "s", "t"),
    ("ws://h/", "", "t"),
    ("file:///tmp/x", "s", "t"),
]


def generations_seeds():
    return [bytes(ops) for ops in GENERATIONS]


def endpoint_seeds():
    sep = b"\xff"
    return [sep.join(part.encode() for part in parts) for parts in ENDPOINT]


def main():
    for frame in CLIENT:
        write("client_frame", frame)
    for limit, cut, body in SSE:
        body = body if isinstance(body, bytes) else body.encode()
        write("sse_stream", limit.encode("latin-1") + cut.encode() + body)
    for chunk in CHUNKS:
        write("openai_chunk", chunk)
    for seed in PROTOCOL:
        write("protocol_roundtrip", seed)
    for frame in CORE_FRAME:
        write("core_frame", frame)
    for seed in generations_seeds():
        write("core_generations", seed)
    for seed in endpoint_seeds():
        write("core_endpoint", seed)


if __name__ == "__main__":
    main()
