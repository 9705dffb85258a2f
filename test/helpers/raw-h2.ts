/**
 * A raw HTTP/2 client over a net.Socket, for tests that must send what no well-behaved client
 * sends, or control when it answers: frames are written as given, SETTINGS are acknowledged,
 * PINGs are not (the test answers them when it chooses). Everything on 127.0.0.1.
 */
import net from 'node:net';

export const TYPE = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;
export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}
export const u32 = (...values: number[]) => Buffer.concat(values.map((v) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255])));
export const rst = (stream: number, code: number) => frame(TYPE.RST_STREAM, 0, stream, u32(code));
export const windowUpdate = (stream: number, increment: number) => frame(TYPE.WINDOW_UPDATE, 0, stream, u32(increment));
export const priority = (stream: number, dependsOn: number) => frame(TYPE.PRIORITY, 0, stream, Buffer.concat([u32(dependsOn), Buffer.from([15])]));
export const settings = (pairs: Array<[number, number]> = []) =>
  frame(TYPE.SETTINGS, 0, 0, Buffer.concat(pairs.map(([id, value]) => Buffer.concat([Buffer.from([id >> 8, id & 255]), u32(value)]))));

/** HPACK literal fields without indexing, no Huffman (lengths under 127). */
export function hpack(fields: Array<[string, string]>): Buffer {
  const literal = (s: string) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
  return Buffer.concat(fields.map(([name, value]) => Buffer.concat([Buffer.from([0]), literal(name), literal(value)])));
}
export const requestHeaders = (path = CHECK_PATH) =>
  hpack([[':method', 'POST'], [':scheme', 'http'], [':path', path], [':authority', 'svc'], ['content-type', 'application/grpc'], ['te', 'trailers']]);

export interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

export interface RawConnection {
  readonly frames: ReceivedFrame[];
  readonly closed: boolean;
  send(...frames: Buffer[]): void;
  destroy(): void;
  /** Stops reading: what the server sends piles up in its own buffers. */
  stopReading(): void;
  /** The GOAWAY error codes the server sent. */
  goaways(): number[];
}

/** On 127.0.0.1:`port`, or on a socket the test opened (a TLS one, say). */
export function rawConnection(to: number | net.Socket, clientSettings: Array<[number, number]> = []): RawConnection {
  const socket = typeof to === 'number' ? net.connect(to, '127.0.0.1') : to;
  const frames: ReceivedFrame[] = [];
  let closed = false;
  let pending = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const received = { type: pending[3]!, flags: pending[4]!, stream: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) };
      frames.push(received);
      if (received.type === TYPE.SETTINGS && (received.flags & 1) === 0 && !socket.destroyed) socket.write(frame(TYPE.SETTINGS, 1, 0));
      pending = pending.subarray(9 + length);
    }
  });
  socket.write(Buffer.concat([PREFACE, settings(clientSettings)]));
  const connection: RawConnection = {
    frames,
    get closed() {
      return closed;
    },
    send: (...out) => void (!socket.destroyed && socket.write(Buffer.concat(out))),
    destroy: () => void socket.destroy(),
    stopReading: () => void socket.pause(),
    goaways: () => frames.filter((f) => f.type === TYPE.GOAWAY).map((f) => f.payload.readUInt32BE(4)),
  };
  return connection;
}
