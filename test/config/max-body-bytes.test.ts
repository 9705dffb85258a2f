/**
 * `maxBodyBytes`: the longest request body `request.body.json[...]` conditions read (64 KiB
 * unless set); a value that is not a positive integer is refused where it is written.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/server-process.js';

function configFile(text: string): string {
  const file = join(tempDir('meshwarden-config-'), 'meshwarden.yaml');
  writeFileSync(file, text);
  return file;
}

describe('maxBodyBytes', () => {
  it('is 64 KiB unless set, and what is written when it is', async () => {
    expect((await loadConfig(configFile(''))).maxBodyBytes).toBe(64 * 1024);
    expect((await loadConfig(configFile('maxBodyBytes: 4096\n'))).maxBodyBytes).toBe(4096);
  });

  it.each([['0'], ['-1'], ['1.5'], ['"64k"']])('refuses %s, naming the line and the key', async (value) => {
    const file = configFile(`defaultAction: DENY\nmaxBodyBytes: ${value}\n`);
    const error = await loadConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(new RegExp(`^${file}:2:15: .*\\(maxBodyBytes\\)$`))]);
  });
});
