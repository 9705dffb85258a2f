/** Timing helpers for micro benchmarks: per-call samples, median and p99, heap deltas. */

export interface Summary {
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly samples: number;
}

/** Times each call separately (hrtime overhead, ~30–60 ns, is included). */
export function timeEach<T>(items: readonly T[], iterations: number, run: (item: T) => unknown): Summary {
  const samples = new Float64Array(iterations);
  let sink = 0;
  for (let i = 0; i < iterations; i += 1) {
    const item = items[i % items.length]!;
    const start = process.hrtime.bigint();
    const result = run(item);
    samples[i] = Number(process.hrtime.bigint() - start);
    if (result === undefined) sink += 1;
  }
  if (sink < 0) console.log(sink);
  samples.sort();
  return { medianNs: samples[Math.floor(iterations / 2)]!, p99Ns: samples[Math.floor(iterations * 0.99)]!, samples: iterations };
}

export function gcHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}
