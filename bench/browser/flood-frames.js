// The frames of a benchmark flood, shared by the benchmark server (bench/browser/server.mjs,
// over a real socket) and the in-page stand-in (bench/browser/fake-socket.js).

/** The frames of a flood of `total` tokens, `perMessage` per message (0: one message). */
export function* floodFrames(total, perMessage) {
  const per = perMessage > 0 ? perMessage : total;
  let sent = 0;
  for (let message = 1; sent < total; message++) {
    const id = perMessage > 0 ? `m${message}` : "m1";
    const count = Math.min(per, total - sent);
    for (let seq = 0; seq < count; seq++) {
      yield `{"type":"stream_token","data":{"message_id":"${id}","token":"tok","seq":${seq}}}`;
    }
    yield `{"type":"stream_complete","data":{"message_id":"${id}","content":"${"tok".repeat(count)}","finish_reason":"stop"}}`;
    sent += count;
  }
}
