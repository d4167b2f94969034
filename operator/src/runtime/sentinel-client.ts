// Asks a replicated store's Sentinels which pod is primary and which replicas are in sync, for
// the status. Why the operator asks over TCP: it has no exec permission on pods, and a pod cannot
// publish its role where the API shows it without permissions of its own (a readiness probe is
// one bit, and Ready must stay "serving and in sync" for the Services, the rollout and the
// disruption budget). Sentinel is the authority on the role anyway: it is whom the kernels ask.
//
// A minimal RESP2 exchange: AUTH, SENTINEL MASTER, SENTINEL REPLICAS on one connection, bounded
// by one deadline. The operator reaches the Sentinels from inside the cluster (the store's
// NetworkPolicy admits it on the Sentinel port); from outside, the name does not resolve and the
// status says so.
import { Socket } from 'node:net';

/** The longest one question to the Sentinels may take, connection included. */
export const SENTINEL_QUERY_TIMEOUT_MS = 2000;
/** The largest reply read: a Sentinel's answers about a handful of pods are a few KiB. */
export const SENTINEL_REPLY_MAX_BYTES = 1 << 20;

export type Reply = string | number | null | Error | Reply[];

/** One RESP2 value from `buffer` at `offset`: the value and where it ends, or undefined if incomplete. */
export function parseReply(buffer: Buffer, offset = 0): { value: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`not a RESP reply (starts with ${JSON.stringify(type)})`);
  }
}

export function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Sends `commands` in one write and returns their replies in order (an error reply is an Error
 * value, not a rejection); rejects on a connection failure or after `timeoutMs`.
 */
export function exchange(
  host: string,
  port: number,
  commands: readonly (readonly string[])[],
  timeoutMs = SENTINEL_QUERY_TIMEOUT_MS,
): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buffer = Buffer.alloc(0);
    const replies: Reply[] = [];
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', fail);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > SENTINEL_REPLY_MAX_BYTES) {
        fail(new Error(`the answer of ${host}:${port} exceeds ${SENTINEL_REPLY_MAX_BYTES} bytes`));
        return;
      }
      try {
        for (let parsed = parseReply(buffer); parsed; parsed = parseReply(buffer)) {
          replies.push(parsed.value);
          buffer = buffer.subarray(parsed.end);
          if (replies.length === commands.length) {
            clearTimeout(timer);
            socket.destroy();
            resolve(replies);
            return;
          }
        }
      } catch (error) {
        fail(error as Error);
      }
    });
    socket.once('close', () => {
      if (replies.length < commands.length) fail(new Error(`${host}:${port} closed the connection`));
    });
    socket.connect(port, host, () => socket.write(commands.map(encodeCommand).join('')));
  });
}
