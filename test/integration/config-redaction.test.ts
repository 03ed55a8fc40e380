/**
 * The "initialized" log line and /status show where the task store is; with credentials in
 * CLOUDFLARE_API_URL they must show the host, never the user:password.
 */
import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { CodegenClient } from '../../src/client.js';
import { createLogger } from '../../src/observability/logger.js';

describe('task store location in logs and status', () => {
  it('masks user-info of CLOUDFLARE_API_URL', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    // No Codegen or GitHub credentials: a dry run, so nothing is contacted while initializing.
    const client = new CodegenClient(
      { cloudflareApi: { baseUrl: 'http://tasks-user:url-pass-31@127.0.0.1:9/', apiKey: 'task-api-key-31' } },
      { logger: createLogger({ level: 'info', destination }) },
    );
    await client.initialize();
    try {
      const initialized = lines.find((line) => line.includes('codegen-pr initialized'));
      expect(initialized).toContain('http://[redacted]@127.0.0.1:9/');
      const status = JSON.stringify(client.getStatus());
      expect(status).toContain('[redacted]@127.0.0.1:9');
      for (const text of [...lines, status]) {
        expect(text).not.toContain('url-pass-31');
        expect(text).not.toContain('task-api-key-31');
      }
    } finally {
      await client.shutdown();
    }
  });
});
