import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEO4J_BROWSER_STYLE, neo4jBrowserPostConnectCmd } from './neo4jBrowserStyle.ts';

describe('Neo4j Browser style', () => {
  it('is one command the Browser keeps whole: no ; outside quotes, grass as JSON', () => {
    const cmd = neo4jBrowserPostConnectCmd();
    expect(cmd.startsWith('style {')).toBe(true);
    expect(cmd).not.toContain(';');
    expect(JSON.parse(cmd.slice('style '.length))).toEqual(NEO4J_BROWSER_STYLE);
  });

  it('compose gives its Neo4j the same command as the local launcher', () => {
    const compose = readFileSync(path.resolve(import.meta.dirname, '../docker-compose.yml'), 'utf8');
    const line = /^\s*NEO4J_browser_post__connect__cmd: '(.*)'$/m.exec(compose);
    expect(line?.[1]).toBe(neo4jBrowserPostConnectCmd());
  });
});
