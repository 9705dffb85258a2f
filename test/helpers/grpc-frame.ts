/** A gRPC length-prefixed message as it goes on the wire: flag byte (1 = compressed), 4-byte big-endian length, message. */
export function grpcFrame(message: Uint8Array, flag = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame[0] = flag;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}
