import { mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GrpcTlsMaterial } from '../../../src/server/grpc/listener.js';
import type { TlsMaterialError } from '../../../src/server/net/tls-material-check.js';
import { TlsMaterialFiles, type TlsMaterialFilesOptions, type TlsRotation } from '../../../src/server/net/tls-material-files.js';
import { renameIntoPlace, tlsFixtures, type TlsFixtures, type TlsGeneration } from './tls-fixtures.js';

let world: TlsFixtures;
const opened: TlsMaterialFiles[] = [];

beforeAll(() => {
  world = tlsFixtures();
});

afterEach(() => {
  for (const files of opened.splice(0)) files.close();
});

const names = { cert: 'tls.crt', key: 'tls.key', clientCa: 'ca.crt' } as const;

/** A directory holding `generation` as plain files, and the paths a config would name. */
function plainDir(generation: TlsGeneration) {
  const dir = mkdtempSync(join(tmpdir(), 'meshwarden-tls-'));
  const paths = { cert: join(dir, names.cert), key: join(dir, names.key), clientCa: join(dir, names.clientCa) };
  writeFileSync(paths.cert, generation.cert);
  writeFileSync(paths.key, generation.key);
  writeFileSync(paths.clientCa, generation.ca);
  return paths;
}

/** Like a Kubernetes secret volume: files are symlinks through `..data` to a timestamped dir. */
function secretVolume(generation: TlsGeneration) {
  const dir = mkdtempSync(join(tmpdir(), 'meshwarden-tls-k8s-'));
  writeVersion(dir, '..v1', generation);
  symlinkSync('..v1', join(dir, '..data'));
  for (const name of Object.values(names)) symlinkSync(`..data/${name}`, join(dir, name));
  return { dir, paths: { cert: join(dir, names.cert), key: join(dir, names.key), clientCa: join(dir, names.clientCa) } };
}

function writeVersion(dir: string, version: string, generation: TlsGeneration): void {
  mkdirSync(join(dir, version));
  writeFileSync(join(dir, version, names.cert), generation.cert);
  writeFileSync(join(dir, version, names.key), generation.key);
  writeFileSync(join(dir, version, names.clientCa), generation.ca);
}

/** What the kubelet does on a secret update: a new version, `..data` flipped by rename, the old one removed. */
function flipSecretVolume(dir: string, version: string, generation: TlsGeneration): void {
  const old = readlinkSync(join(dir, '..data'));
  writeVersion(dir, version, generation);
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, old), { recursive: true });
}

interface Observed {
  readonly files: TlsMaterialFiles;
  readonly changes: GrpcTlsMaterial[];
  readonly rotations: TlsRotation[];
  readonly rejections: TlsMaterialError[];
}

async function open(paths: { cert: string; key: string; clientCa?: string }, options: TlsMaterialFilesOptions = {}): Promise<Observed> {
  const rotations: TlsRotation[] = [];
  const rejections: TlsMaterialError[] = [];
  const files = await TlsMaterialFiles.open(paths, {
    debounceMs: 20,
    resyncMs: 0,
    onRotated: (rotation) => rotations.push(rotation),
    onRejected: (error) => rejections.push(error),
    ...options,
  });
  opened.push(files);
  const changes: GrpcTlsMaterial[] = [];
  files.onChange((material) => changes.push(material));
  return { files, changes, rotations, rejections };
}

/** Polls `condition` until it holds; the watch is real, so its timing is the kernel's. */
async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('TlsMaterialFiles on a change', () => {
  // each rotates twice: a watch on the file itself sees the first replacement and goes deaf
  it('serves the new certificate, key and CA each time they are renamed into place', async () => {
    const paths = plainDir(world.first);
    const { files, changes, rotations } = await open(paths);
    for (const generation of [world.second, world.first]) {
      renameIntoPlace(paths.key, generation.key);
      renameIntoPlace(paths.cert, generation.cert);
      renameIntoPlace(paths.clientCa, generation.ca);
      await eventually(() => files.current.clientCa?.toString() === generation.ca);
      expect(files.current.cert.toString()).toBe(generation.cert);
      expect(changes.at(-1)).toBe(files.current);
      expect(rotations.at(-1)?.certificate.serialNumber).toBe(files.certificate.serialNumber);
    }
  });

  it('serves the new set each time a secret volume flips its ..data symlink', async () => {
    const { dir, paths } = secretVolume(world.first);
    const { files, changes, rejections } = await open(paths);
    for (const [version, generation] of [['..v2', world.second], ['..v3', world.first]] as const) {
      const before = changes.length;
      flipSecretVolume(dir, version, generation);
      await eventually(() => changes.length > before);
      await settle();
      expect(changes).toHaveLength(before + 1); // the three files changed at once: one swap
      expect(files.current).toEqual({ cert: Buffer.from(generation.cert), key: Buffer.from(generation.key), clientCa: Buffer.from(generation.ca) });
    }
    expect(rejections).toEqual([]);
  });

  it('re-reads on reload() and says when nothing changed', async () => {
    const paths = plainDir(world.first);
    const { files, changes } = await open(paths, { watch: () => ({ close() {} }) });
    expect(await files.reload()).toBe('unchanged');
    writeFileSync(paths.cert, world.second.cert);
    writeFileSync(paths.key, world.second.key);
    expect(await files.reload()).toBe('rotated');
    expect(changes).toHaveLength(1);
  });

  it('re-reads on its own every resyncMs, for a watch that went deaf', async () => {
    const paths = plainDir(world.first);
    const { changes } = await open(paths, { watch: () => ({ close() {} }), resyncMs: 20 });
    renameIntoPlace(paths.cert, world.second.cert);
    renameIntoPlace(paths.key, world.second.key);
    await eventually(() => changes.length === 1);
  });

  it('reads once after a burst of change events', async () => {
    const paths = plainDir(world.first);
    let fire = () => {};
    const { changes, rejections } = await open(paths, { watch: (_paths, onChange) => ((fire = onChange), { close() {} }) });
    renameIntoPlace(paths.cert, world.second.cert);
    fire();
    fire(); // the key is not there yet: a read now would refuse a mismatched pair
    renameIntoPlace(paths.key, world.second.key);
    fire();
    await eventually(() => changes.length === 1);
    await settle();
    expect(changes).toHaveLength(1);
    expect(rejections).toEqual([]);
  });
});

describe('TlsMaterialFiles on bad files', () => {
  const bad: [string, string, (paths: { cert: string; key: string; clientCa: string }) => void][] = [
    ['garbage', 'ERR_TLS_CERT_INVALID', (p) => renameIntoPlace(p.cert, 'garbage')],
    ['a certificate with the key of another', 'ERR_TLS_KEY_MISMATCH', (p) => renameIntoPlace(p.cert, world.second.cert)],
    ['a missing key file', 'ERR_TLS_FILE_UNREADABLE', (p) => unlinkSync(p.key)],
    ['a half-written client CA', 'ERR_TLS_CLIENT_CA_INVALID', (p) => renameIntoPlace(p.clientCa, world.second.ca.slice(0, 100))],
  ];

  it.each(bad)('keeps the material in service on %s, and reports %s with the path', async (_name, code, spoil) => {
    const paths = plainDir(world.first);
    const { files, changes, rejections } = await open(paths);
    const before = files.current;
    spoil(paths);
    await eventually(() => rejections.length > 0);
    expect(rejections[0]?.code).toBe(code);
    expect(rejections[0]?.message).toContain(rejections[0]?.path);
    expect(Object.values(paths)).toContain(rejections[0]?.path);
    expect(files.current).toBe(before);
    expect(changes).toEqual([]);
  });

  it('refuses to open on bad files, naming the cause', async () => {
    const paths = plainDir(world.first);
    writeFileSync(paths.key, world.second.key);
    await expect(TlsMaterialFiles.open(paths)).rejects.toMatchObject({ code: 'ERR_TLS_KEY_MISMATCH', path: paths.cert });
  });

  it('reports a failure once however often it is retried, a new one again, and the same one again after good files', async () => {
    const paths = plainDir(world.first);
    const { files, rejections } = await open(paths, { watch: () => ({ close() {} }) });
    writeFileSync(paths.cert, 'garbage');
    for (let i = 0; i < 3; i++) expect(await files.reload()).toBe('rejected');
    expect(rejections.map((e) => e.code)).toEqual(['ERR_TLS_CERT_INVALID']);
    writeFileSync(paths.cert, world.second.cert);
    for (let i = 0; i < 3; i++) await files.reload();
    expect(rejections.map((e) => e.code)).toEqual(['ERR_TLS_CERT_INVALID', 'ERR_TLS_KEY_MISMATCH']);
    writeFileSync(paths.key, world.second.key);
    expect(await files.reload()).toBe('rotated');
    writeFileSync(paths.cert, 'garbage');
    await files.reload();
    expect(rejections.map((e) => e.code)).toEqual(['ERR_TLS_CERT_INVALID', 'ERR_TLS_KEY_MISMATCH', 'ERR_TLS_CERT_INVALID']);
  });

  it('serves good files that follow bad ones', async () => {
    const paths = plainDir(world.first);
    const { files, changes } = await open(paths);
    renameIntoPlace(paths.cert, 'garbage');
    await settle();
    renameIntoPlace(paths.key, world.second.key);
    renameIntoPlace(paths.cert, world.second.cert);
    await eventually(() => changes.length === 1);
    expect(files.current.cert.toString()).toBe(world.second.cert);
  });
});

describe('TlsMaterialFiles.close', () => {
  it('stops watching: later changes are neither read nor told', async () => {
    const paths = plainDir(world.first);
    const { files, changes, rotations, rejections } = await open(paths, { resyncMs: 20 });
    files.close();
    renameIntoPlace(paths.key, world.second.key);
    renameIntoPlace(paths.cert, world.second.cert);
    await settle();
    expect(await files.reload()).toBe('closed');
    expect(files.current.cert.toString()).toBe(world.first.cert);
    expect([changes, rotations, rejections]).toEqual([[], [], []]);
  });

  it('stops telling a listener that unsubscribed', async () => {
    const paths = plainDir(world.first);
    const { files } = await open(paths, { watch: () => ({ close() {} }) });
    const told: GrpcTlsMaterial[] = [];
    const unsubscribe = files.onChange((material) => told.push(material));
    unsubscribe();
    writeFileSync(paths.key, world.second.key);
    writeFileSync(paths.cert, world.second.cert);
    expect(await files.reload()).toBe('rotated');
    expect(told).toEqual([]);
  });
});
