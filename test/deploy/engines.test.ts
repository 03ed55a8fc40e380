/**
 * The Node versions we name agree everywhere: package.json engines admit them, every package in the lockfile
 * (production and development: `npm ci` warns EBADENGINE for either) admits the lowest release of each major we
 * name, the Docker image runs one of them, and CI runs the tests on each. Octokit's content-type parser is held
 * at a release that runs on Node 20 (package.json overrides); it must still parse what Octokit asks of it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from '@octokit/request';
import { describe, expect, it } from '@jest/globals';

const require = createRequire(path.resolve('package.json'));
// semver (a dev dependency, no types installed): the three functions used here.
const semver = require('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
  major(version: string): number;
};
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
};
/** The lowest release of each major that package.json admits, e.g. ['20.19.0', '22.13.0', '24.0.0']. */
const lowest = pkg.engines.node.split('||').map((range) => semver.minVersion(range.trim())?.version ?? range);
const majors = lowest.map((v) => semver.major(v));

describe('Node versions', () => {
  it('are named in engines as a list of majors', () => {
    expect(majors.length).toBeGreaterThanOrEqual(1);
    expect(majors).toContain(20);
  });

  it('are admitted by every package in the lockfile', () => {
    const refused: string[] = [];
    for (const [name, entry] of Object.entries(lock.packages)) {
      const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      if (!name || !range) continue;
      for (const version of lowest) {
        if (!semver.satisfies(version, range)) refused.push(`${name} (${range}) refuses Node ${version}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it('match the Docker image and the majors CI tests on', () => {
    const from = [...readFileSync('Dockerfile', 'utf8').matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(from.length).toBeGreaterThan(0);
    for (const major of from) expect(majors).toContain(major);
    const ci = /^NODE_MAJORS="([\d ]+)"/m.exec(readFileSync('.ci/run', 'utf8'))?.[1];
    expect(ci?.split(' ').map(Number).sort()).toEqual([...majors].sort());
  });
});

describe("Octokit's content-type parser (overridden for Node 20)", () => {
  it('lets Octokit read JSON, text and binary answers by their media type', async () => {
    const bodies: Record<string, [string, string]> = {
      '/json': ['application/json; charset=utf-8', '{"ok":true}'],
      '/text': ['Text/Plain;Charset="UTF-8"', 'plain words'],
      '/binary': ['application/octet-stream', 'raw'],
    };
    const server = createServer((req, res) => {
      const [type, body] = bodies[req.url ?? ''] ?? ['text/plain', 'missing'];
      res.writeHead(200, { 'content-type': type }).end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await request('GET /json', { baseUrl })).data).toEqual({ ok: true });
      expect((await request('GET /text', { baseUrl })).data).toBe('plain words');
      expect((await request('GET /binary', { baseUrl })).data).toBeInstanceOf(ArrayBuffer);
    } finally {
      server.close();
    }
  });
});
