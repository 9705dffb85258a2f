/**
 * A send's deadline as an AbortSignal that cannot be collected before it fires. Node 20's
 * `AbortSignal.any([signal, AbortSignal.timeout(ms)])` holds its timeout weakly: once a GC ran
 * (a receiver streaming an endless answer makes one soon), the deadline never fired and the
 * send hung for good. Here the timer holds the controller until it fires.
 */
export function deadlineSignal(parent: AbortSignal, timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return controller.signal;
  }
  // Left to fire even after the send ended: its abort also takes the listener off `parent`.
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  timer.unref();
  parent.addEventListener('abort', () => controller.abort(parent.reason), { once: true, signal: controller.signal });
  controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return controller.signal;
}
